/**
 * `wsbench run --config` through the real bin: a TypeScript config file and the same run given as
 * flags print the same effective config with `--dry-run` (which starts nothing), and every config
 * error ends with WSB_CONFIG_INVALID, a hint, exit 2 and no process of the run left.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../scenarios/index.js';
import { wsbench } from './support/cli.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

const CONFIG = `// a typed config, as a user writes it (defineConfig only types it, so it is left out here)
const small = { connections: 60, rooms: 2 } as const;
export default {
  server: 'ws',
  nodes: 2,
  lbPolicy: 'least_conn',
  targets: { 'latency-p99': 40 },
  runs: {
    smoke: { scenario: 'cross-node-broadcast', options: { ...small, duration: 3, rate: 4 } },
  },
  options: { warmup: 1 },
};
`;
const SAME_AS_FLAGS = ['--server', 'ws', '--nodes', '2', '--lb-policy', 'least_conn', '--target', 'latency-p99=40', '--connections', '60', '--rooms', '2', '--duration', '3', '--rate', '4', '--warmup', '1'];

describe('wsbench run --config (the real bin)', () => {
  it('a named run of a TS config and the same run from flags print the same effective config with --dry-run, starting nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-config-cli-'));
    const file = join(dir, 'wsbench.config.ts');
    writeFileSync(file, CONFIG);
    const out = join(dir, 'never-created');
    const fromFile = await wsbench(['run', 'smoke', '--config', file, '--dry-run', '--out', out]);
    const fromFlags = await wsbench(['run', 'cross-node-broadcast', ...SAME_AS_FLAGS, '--dry-run', '--out', out]);
    expect([fromFile.code, fromFlags.code]).toEqual([0, 0]);
    const a = JSON.parse(fromFile.stdout) as Record<string, any>;
    const b = JSON.parse(fromFlags.stdout) as Record<string, any>;
    expect(a).toEqual(b);
    expect(a).toMatchObject({ scenario: 'cross-node-broadcast', server: 'ws', nodes: 2, lbPolicy: 'least_conn', driver: 'local', engine: 'node', out });
    expect(a.options).toMatchObject({ connections: 60, rooms: 2, duration: 3, rate: 4, warmup: 1, publishersPerRoom: 1 });
    // Every target of the scenario with its threshold; the overridden one with the config's value.
    expect(Object.keys(a.targets)).toEqual(SCENARIOS['cross-node-broadcast'].targets);
    expect(a.targets).toMatchObject({ 'latency-p99': 40, 'cross-node-latency-p99': 50, 'no-loss': 0 });
    expect(a.adapter).toBeUndefined();
    // A flag overrides the file.
    const overridden = await wsbench(['run', 'smoke', '--config', file, '--dry-run', '--nodes', '3', '--rooms', '3']);
    expect(JSON.parse(overridden.stdout)).toMatchObject({ nodes: 3, options: { rooms: 3, connections: 60 } });
    expect(existsSync(out)).toBe(false);
  });

  it('config errors: WSB_CONFIG_INVALID naming key, value and expectation; exit 2; nothing left running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-config-cli-'));
    writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ options: { connections: 60, rooms: 2 }, nodez: 2 }));
    writeFileSync(join(dir, 'type.mjs'), 'export default { options: { connections: 60, rooms: 2 }, readyTimeout: "30s" };');
    writeFileSync(join(dir, 'runs.ts'), CONFIG);
    writeFileSync(join(dir, 'throws.ts'), 'const secret: string | undefined = undefined;\nif (!secret) throw new Error("WSB_JWT_SECRET is not set");\nexport default {};\n');
    const cases: Array<[string[], RegExp]> = [
      [['cross-node-broadcast', '--config', join(dir, 'unknown.json')], /nodez: unknown key \(got 2\); did you mean nodes\?/],
      [['cross-node-broadcast', '--config', join(dir, 'type.mjs')], /readyTimeout: expected a number, received a string \(got "30s"\)/],
      [['nightly', '--config', join(dir, 'runs.ts')], /has no run named "nightly" \(runs: smoke\)/],
      [['cross-node-broadcast', '--config', join(dir, 'absent.ts')], /cannot read config file .*absent\.ts/],
      [['cross-node-broadcast', '--config', join(dir, 'throws.ts')], /threw while loading: WSB_JWT_SECRET is not set/],
    ];
    for (const [args, re] of cases) {
      const tag = newTag();
      const out = mkdtempSync(join(tmpdir(), 'wsb-config-bad-'));
      const r = await wsbench(['run', ...args, '--out', out], { env: { ...process.env, WSB_TEST_TAG: tag } });
      expect(r.stderr, args.join(' ')).toContain('error WSB_CONFIG_INVALID: ');
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr).toMatch(/\nhint: \S/);
      expect(r.code).toBe(2);
      expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
    }
  });
});
