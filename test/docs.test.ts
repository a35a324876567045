/**
 * Issue 13's promises about the docs, read from the files: the README is the short front door
 * (under 300 lines, its quick start exactly two lines) and links every page of docs/; every
 * relative link of the README and of docs/*.md names a file that exists, and a `#anchor` into a
 * page names one of its headings (GitHub's slugs).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const PAGES = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort();

/** GitHub's heading anchor: lower case, punctuation dropped (but `-` and `_`), spaces to `-`. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(md: string): Set<string> {
  const out = new Set<string>();
  let inFence = false;
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.add(slug(m[1]));
  }
  return out;
}

/** Relative links `[text](target)` outside code fences and inline code. */
function linksOf(md: string): string[] {
  const text = md.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t));
}

function brokenLinks(file: string): string[] {
  const out: string[] = [];
  for (const link of linksOf(read(file))) {
    const [path, anchor] = link.split('#');
    const target = path === '' ? file : normalize(join(dirname(file), path));
    if (!existsSync(join(ROOT, target))) {
      out.push(`${file}: ${link} (no file ${target})`);
      continue;
    }
    if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(read(target)).has(anchor)) out.push(`${file}: ${link} (no heading #${anchor} in ${target})`);
  }
  return out;
}

describe('docs (issue 13: the README is the front door, docs/ holds the rest)', () => {
  it('the README is under 300 lines and its quick start is two lines', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThan(300);
    const quick = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme);
    expect(quick?.[1].trim().split('\n')).toEqual(['npm ci && npx wsbench setup && npx wsbench run cross-node-broadcast', 'npm ci && npx wsbench setup --tests && npm test']);
  });

  it('the README links every page of docs/', () => {
    expect(PAGES.length).toBeGreaterThan(10);
    const linked = new Set(linksOf(read('README.md')).map((l) => l.split('#')[0]));
    expect(PAGES.filter((p) => !linked.has(`docs/${p}`))).toEqual([]);
  });

  it('every relative link of the README and the docs names a file that exists, and an anchor a heading of it', () => {
    expect(['README.md', ...PAGES.map((p) => `docs/${p}`)].flatMap(brokenLinks)).toEqual([]);
  });

  it('the checks catch what they are for', () => {
    expect(slug('Tolerances, by kind of value')).toBe('tolerances-by-kind-of-value');
    expect(slug('`compare` as a gate: what is compared')).toBe('compare-as-a-gate-what-is-compared');
    expect(linksOf('see [a](docs/x.md#y), `[b](not-a-link.md)`, [c](https://example.com)')).toEqual(['docs/x.md#y']);
  });
});
