/**
 * examples/seed-002 as an image (its Dockerfile, FROM wsbench's locally built Node image) run by the
 * docker driver through the real bin: `server.image` chosen by WSBENCH_SERVER_IMAGE in the example's
 * own config. The build context is assembled here as a user's would be after `npm ci --omit=dev`:
 * the example's files, a package.json, and its dependencies' closure copied from node_modules.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DOCKER_IMAGE_DEFAULTS } from '../../cluster/docker-driver.js';
import { runExample } from './support/examples.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEED_002_DEPS = ['ioredis', 'jsonwebtoken', 'ws'];

/** The folder of package `name` as Node resolves it from `fromDir` (walking up node_modules). */
function packageDir(name: string, fromDir: string): string {
  for (let d = fromDir; ; d = dirname(d)) {
    const c = join(d, 'node_modules', name);
    if (existsSync(join(c, 'package.json'))) return realpathSync(c);
    if (dirname(d) === d) throw new Error(`${name} not found from ${fromDir}`);
  }
}

/** Copies `deps` and everything they depend on (dependencies, present optionalDependencies) into `to/node_modules`. */
function copyClosure(deps: string[], to: string): number {
  const seen = new Set<string>();
  const queue = deps.map((name) => ({ name, from: ROOT }));
  while (queue.length) {
    const { name, from } = queue.shift()!;
    const dir = packageDir(name, from);
    if (seen.has(dir)) continue;
    seen.add(dir);
    // Flat, as npm hoists: one version of each package is all these examples need.
    cpSync(dir, join(to, 'node_modules', name), { recursive: true, dereference: true });
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const d of Object.keys(pkg.dependencies ?? {})) queue.push({ name: d, from: dir });
    for (const d of Object.keys(pkg.optionalDependencies ?? {})) {
      try {
        packageDir(d, dir);
        queue.push({ name: d, from: dir });
      } catch {
        // an optional dependency that is not installed
      }
    }
  }
  return seen.size;
}

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('examples/seed-002 as an image (docker driver)', () => {
  it('builds FROM wsbench’s Node image and passes cross-node-broadcast with every delivery accounted', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'wsb-seed-002-image-'));
    const example = join(ROOT, 'examples', 'seed-002');
    for (const f of readdirSync(example)) if (f.endsWith('.js') || f === 'Dockerfile') cpSync(join(example, f), join(ctx, f));
    writeFileSync(join(ctx, 'package.json'), JSON.stringify({ name: 'seed-002', private: true, type: 'module' }));
    mkdirSync(join(ctx, 'node_modules'));
    expect(copyClosure(SEED_002_DEPS, ctx)).toBeGreaterThanOrEqual(SEED_002_DEPS.length);
    const tag = 'wsbench-example/seed-002:test';
    docker(['build', '-q', '--build-arg', `BASE=${DOCKER_IMAGE_DEFAULTS.node}`, '-t', tag, ctx]);
    expect(docker(['image', 'inspect', '-f', '{{.Config.Cmd}}', tag]).trim()).toBe('[node server.js]');

    const r = await runExample('seed-002', 'cross-node-broadcast', ['--connections', '300', '--rooms', '10', '--duration', '4'], { WSBENCH_SERVER_IMAGE: tag });
    const report = r.report!;
    expect(report, r.stderr).toBeDefined();
    expect(report.error, r.stderr).toBeUndefined();
    expect(report.topology.driver).toBe('docker');
    expect(report.topology.server).toBe('custom');
    expect(report.topology.serverImage).toBe(tag);
    const a = report.accounting;
    expect(a.expected).toBeGreaterThan(0);
    expect(a.received).toBe(a.expected);
    expect(a.lost).toBe(0);
    expect(a.expected).toBe(report.counters.messages_published * (300 / 10));
    expect(a.crossNode.expected).toBeGreaterThan(0);
    expect(a.sameNode.expected + a.crossNode.expected).toBe(a.expected);
  });
});
