import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { escapeXml, renderJunit } from './junit.js';
import type { RunReport } from '../model/run-report.js';

const load = (name: string): RunReport => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (_, e: string) => (e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e]));

/**
 * A strict little XML parser for the subset JUnit uses (declaration, elements, attributes, text):
 * throws on anything not well-formed — an unescaped `<` or `&`, an unquoted or duplicate
 * attribute, a mismatched or unclosed tag, characters XML 1.0 forbids.
 */
function parseXml(xml: string): El {
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(xml)) throw new Error('forbidden character');
  let i = 0;
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(xml);
  if (!decl) throw new Error('no XML declaration');
  i = decl[0].length;
  const text = (s: string) => {
    if (/[<>]|&(?!(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);)/i.test(s)) throw new Error(`unescaped text: ${s.slice(0, 40)}`);
    return decode(s);
  };
  const root: El = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: El[] = [root];
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>/y;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const chunk = lt === -1 ? xml.slice(i) : xml.slice(i, lt);
    stack[stack.length - 1].text += text(chunk);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
    i = tag.lastIndex;
    const [, close, name, rawAttrs, selfClose] = m;
    if (close) {
      const open = stack.pop()!;
      if (open.name !== name) throw new Error(`</${name}> closes <${open.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]] = text(a[2]);
    }
    const el: El = { name, attrs, children: [], text: '' };
    stack[stack.length - 1].children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (root.children.length !== 1 || root.text.trim() !== '') throw new Error('not exactly one root element');
  return root.children[0];
}

const all = (el: El, name: string): El[] => [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];

describe('the test parser', () => {
  it('rejects what is not well-formed', () => {
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(() => parseXml(`${head}<a>x</a>`)).not.toThrow();
    for (const bad of ['<a>&</a>', '<a>1 < 2</a>', '<a><b></a></b>', '<a x="1" x="2"/>', '<a x=1/>', '<a>', '<a/><b/>', '<a>\u0001</a>']) {
      expect(() => parseXml(head + bad), bad).toThrow();
    }
  });
});

describe('renderJunit', () => {
  it('has one testcase per target, a failure for each missed or unmeasured one, counts that match', () => {
    const r = load('sample-report-chaos.json');
    const doc = parseXml(renderJunit(r));
    expect(doc.name).toBe('testsuites');
    const [suite] = all(doc, 'testsuite');
    const cases = all(suite, 'testcase');
    expect(cases).toHaveLength(r.targets.length);
    expect(cases.map((c) => c.attrs.classname)).toEqual(r.targets.map(() => 'node-kill'));
    expect(cases.map((c) => c.attrs.name.split(':')[0])).toEqual(r.targets.map((t) => t.id));
    const failures = all(suite, 'failure');
    expect(failures).toHaveLength(2);
    expect(suite.attrs).toMatchObject({ tests: '8', failures: '2', errors: '0', skipped: '0' });
    expect(doc.attrs).toMatchObject({ tests: '8', failures: '2', errors: '0' });

    const noLoss = cases.find((c) => c.attrs.name.startsWith('no-loss:'))!;
    const f = all(noLoss, 'failure')[0];
    expect(f.attrs.message).toBe('actual 4120, expected lost == 0');
    expect(f.attrs.type).toBe('target-missed');
    expect(f.text).toContain('source: seed 004 · WebSocket Implementation for Real-Time Communication (Testing Procedures): "Test message delivery, ordering, and reliability"');

    const unknown = cases.find((c) => c.attrs.name.startsWith('reconnect-p99:'))!;
    expect(all(unknown, 'failure')[0].attrs).toEqual({ message: 'not measured', type: 'not-measured' });

    const pass = cases.find((c) => c.attrs.name.startsWith('latency-p99:'))!;
    expect(all(pass, 'failure')).toHaveLength(0);
    expect(all(pass, 'system-out')[0].text).toContain('actual: 8.439 ms');
  });

  it('reports an error or interrupted run as an <error>', () => {
    const r: RunReport = {
      ...load('report-default-run.json'),
      targets: [],
      verdict: 'error',
      error: { code: 'WSB_LB_NOT_READY', message: 'nginx did not answer in 30000 ms', hint: 'raise --ready-timeout' },
    };
    const doc = parseXml(renderJunit(r));
    const [err] = all(doc, 'error');
    expect(err.attrs).toEqual({ message: 'WSB_LB_NOT_READY: nginx did not answer in 30000 ms', type: 'WSB_LB_NOT_READY' });
    expect(err.text).toContain('hint: raise --ready-timeout');
    expect(all(doc, 'testsuite')[0].attrs).toMatchObject({ tests: '1', failures: '0', errors: '1' });

    const interrupted = parseXml(renderJunit({ ...load('sample-report.json'), verdict: 'interrupted', error: { code: 'WSB_INTERRUPTED', message: 'interrupted' } }));
    expect(all(interrupted, 'testcase').at(-1)!.attrs.name).toBe('run: interrupted');
    expect(all(interrupted, 'testsuite')[0].attrs).toMatchObject({ tests: '6', failures: '1', errors: '1' });
  });

  it('stays well-formed with hostile strings and control characters, and keeps their text', () => {
    const nasty = `<x a="1">&amp; ]]> ' \u0001\u0007 \uD800 end`;
    const r = load('sample-report.json');
    r.scenario.name = nasty;
    r.targets[2].source.quote = nasty;
    r.targets[2].description = nasty;
    r.generator.notes.push(nasty);
    r.environment.hostname = nasty;
    r.options[nasty] = nasty;
    const xml = renderJunit(r);
    const doc = parseXml(xml);
    const [suite] = all(doc, 'testsuite');
    expect(suite.attrs.name).toBe(`<x a="1">&amp; ]]> ' \uFFFD\uFFFD \uFFFD end`);
    expect(all(suite, 'failure')[0].text).toContain(`<x a="1">&amp; ]]>`);
  });

  it('escapeXml escapes markup and replaces what XML cannot hold', () => {
    expect(escapeXml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&apos;');
    expect(escapeXml('\u0000\t\n\r😀')).toBe('\uFFFD\t\n\r😀');
  });
});
