import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { buildPlan, planFromCommandLine } from '../cli/plan.js';
import { loadConfigFile } from './load.js';
import { resolvePlan } from './resolve.js';
import { defineConfig } from './schema.js';

const dir = () => mkdtempSync(join(tmpdir(), 'wsb-config-'));

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<WsbenchError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(WsbenchError);
    return e as WsbenchError;
  }
  throw new Error('expected an error');
}

const NAMED = `import type { X } from './nothing-at-runtime';
const rooms: number = 2;
export default {
  nodes: 2,
  options: { connections: 60, duration: 3 },
  runs: {
    smoke: { scenario: 'cross-node-broadcast', options: { rooms, rate: 4 }, targets: { 'latency-p99': 45 } },
    nightly: { scenario: 'node-kill', nodes: 3, options: { connections: 300, duration: 20 }, targets: { 'no-duplicates': 0 } },
  },
};
`;

describe('config files', () => {
  it('loads a TypeScript file with named runs: shared keys < the run, options and targets merged key by key', async () => {
    const d = dir();
    const f = join(d, 'wsbench.config.ts');
    writeFileSync(f, NAMED);
    const smoke = await planFromCommandLine('smoke', { config: f }, {});
    expect(smoke.scenario.name).toBe('cross-node-broadcast');
    expect(smoke.config.options).toMatchObject({ connections: 60, rooms: 2, rate: 4, duration: 3 });
    expect(smoke.config.nodes).toBe(2);
    expect(smoke.config.targets['latency-p99']).toBe(45);
    const nightly = await planFromCommandLine('nightly', { config: f, nodes: '4' }, {});
    expect(nightly.scenario.name).toBe('node-kill');
    expect(nightly.options.connections).toBe(300);
    expect(nightly.topology.nodes).toBe(4);
    // The temporary bundle is removed again.
    expect(readdirSync(d)).toEqual(['wsbench.config.ts']);
  });

  it('loads .mjs and .json files; the positional is the scenario when the file has no run of that name', async () => {
    const d = dir();
    writeFileSync(join(d, 'c.mjs'), 'export default { server: "ws", options: { rooms: 3 } };');
    writeFileSync(join(d, 'c.json'), JSON.stringify({ server: 'bun', rooms: 5 }));
    const m = await planFromCommandLine('cross-node-broadcast', { config: join(d, 'c.mjs') }, {});
    expect([m.topology.server, m.options.rooms]).toEqual(['ws', 3]);
    // A scenario option may also sit at the top level, by its key.
    const j = await planFromCommandLine('cross-node-broadcast', { config: join(d, 'c.json') }, {});
    expect([j.topology.server, j.options.rooms]).toEqual(['bun', 5]);
    expect(j.config.adapter).toBeUndefined();
  });

  it('flags override the file; the effective config fed back as a file gives the same effective config', async () => {
    const d = dir();
    const f = join(d, 'c.json');
    writeFileSync(f, JSON.stringify({ options: { connections: 2000, rooms: 20 }, driver: 'docker', dockerPull: 'never', targets: { 'latency-p99': 30 } }));
    const plan = buildPlan('cross-node-broadcast', { config: f, rooms: '25', target: ['latency-p99=35'] }, {});
    expect(plan.config.options).toMatchObject({ connections: 2000, rooms: 25 });
    expect(plan.config.targets['latency-p99']).toBe(35);
    expect(plan.config.dockerPull).toBe('never');
    expect(plan.config.redisImage).toBe(plan.docker.images.redis);
    const again = join(d, 'effective.json');
    writeFileSync(again, JSON.stringify(plan.config));
    expect(buildPlan('cross-node-broadcast', { config: again }, {}).config).toEqual(plan.config);
  });

  it("a TypeScript config in a folder without wsbench installed imports 'wsbench' as the running package", async () => {
    const d = dir();
    const f = join(d, 'wsbench.config.ts');
    writeFileSync(f, "import { defineConfig, CONFIG_DEFAULTS } from 'wsbench';\nexport default defineConfig({ scenario: 'cross-node-broadcast', nodes: CONFIG_DEFAULTS.nodes + 1 });\n");
    expect(await loadConfigFile(f)).toEqual({ scenario: 'cross-node-broadcast', nodes: 4 });
    // Only the compiled config's temporary file was beside it, and it is gone.
    expect(readdirSync(d)).toEqual(['wsbench.config.ts']);
  });

  it('defineConfig returns its argument; a library config resolves like a file', () => {
    const c = defineConfig({ scenario: 'cross-node-broadcast', options: { connections: 60, rooms: 2 }, nodes: 2 });
    expect(c.options.connections).toBe(60);
    const plan = resolvePlan('cross-node-broadcast', [{ origin: 'config', source: 'run() config', values: c }], {});
    expect(plan.config).toMatchObject({ scenario: 'cross-node-broadcast', nodes: 2, driver: 'local', engine: 'node', json: false });
  });
});

describe('config errors: WSB_CONFIG_INVALID naming the key, the value and what was expected', () => {
  it('an unknown key, with the closest known one', async () => {
    const d = dir();
    writeFileSync(join(d, 'c.json'), JSON.stringify({ conections: 5 }));
    const e = await errorOf(planFromCommandLine('cross-node-broadcast', { config: join(d, 'c.json') }, {}));
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toMatch(/conections: unknown key \(got 5\); did you mean connections\?/);
  });

  it('a wrong type, in the options, in the run keys and in the targets (all at once)', async () => {
    const d = dir();
    writeFileSync(join(d, 'c.mjs'), 'export default { nodes: "three", options: { rate: "fast" }, targets: { "no-loss": true, "thruput": 1 } };');
    const e = await errorOf(planFromCommandLine('cross-node-broadcast', { config: join(d, 'c.mjs') }, {}));
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toContain('nodes: expected a number, received a string (got "three")');
    expect(e.message).toContain('options.rate: expected a number, received a string (got "fast")');
    expect(e.message).toMatch(/targets\.no-loss: expected a number.*\(got true\)/);
    expect(e.message).toMatch(/targets\.thruput: cross-node-broadcast has no target "thruput"/);
  });

  it('a combination problem that comes from the file is a config error; the same from flags is an option error', async () => {
    const d = dir();
    writeFileSync(join(d, 'c.json'), JSON.stringify({ server: 'ws', adapter: 'redis-streams' }));
    const e = await errorOf(planFromCommandLine('cross-node-broadcast', { config: join(d, 'c.json') }, {}));
    expect([e.code, e.message.includes('adapter: only applies with server socketio')]).toEqual(['WSB_CONFIG_INVALID', true]);
    const f = await errorOf(() => buildPlan('cross-node-broadcast', { server: 'ws', adapter: 'redis-streams' }, {}));
    expect([f.code, f.message.includes('--adapter: only applies with --server socketio')]).toEqual(['WSB_INVALID_OPTION', true]);
  });

  it('an unknown named run, a run without a scenario, a scenario the command contradicts', async () => {
    const d = dir();
    const f = join(d, 'c.ts');
    writeFileSync(f, NAMED);
    const e = await errorOf(planFromCommandLine('weekly', { config: f }, {}));
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toContain('has no run named "weekly" (runs: smoke, nightly)');
    writeFileSync(join(d, 'n.json'), JSON.stringify({ runs: { x: { options: {} } } }));
    expect((await errorOf(planFromCommandLine('x', { config: join(d, 'n.json') }, {}))).message).toContain('runs.x.scenario: expected a scenario name');
    writeFileSync(join(d, 's.json'), JSON.stringify({ scenario: 'node-kill' }));
    expect((await errorOf(planFromCommandLine('cross-node-broadcast', { config: join(d, 's.json') }, {}))).message).toContain('the file names "node-kill" but the command runs "cross-node-broadcast"');
  });

  it('an unreadable file, a TS file that throws, one that does not compile, one without a default export', async () => {
    const d = dir();
    const missing = await errorOf(loadConfigFile(join(d, 'absent.ts')));
    expect([missing.code, missing.message]).toEqual(['WSB_CONFIG_INVALID', expect.stringContaining('cannot read config file')]);
    writeFileSync(join(d, 'throws.ts'), 'const port: number = Number("x");\nif (Number.isNaN(port)) throw new Error("PORT is not set");\nexport default {};');
    expect((await errorOf(loadConfigFile(join(d, 'throws.ts')))).message).toMatch(/threw while loading: PORT is not set/);
    writeFileSync(join(d, 'broken.ts'), 'export default { nodes: 3,, };');
    expect((await errorOf(loadConfigFile(join(d, 'broken.ts')))).message).toMatch(/does not compile: .*\(line 1, column \d+\)/);
    writeFileSync(join(d, 'nodefault.mjs'), 'export const config = {};');
    expect((await errorOf(loadConfigFile(join(d, 'nodefault.mjs')))).message).toContain('has no default export');
    writeFileSync(join(d, 'c.yaml'), 'nodes: 3');
    expect((await errorOf(loadConfigFile(join(d, 'c.yaml')))).message).toContain('unsupported extension ".yaml"');
    // Nothing of the failed loads is left beside the configs.
    expect(readdirSync(d).sort()).toEqual(['broken.ts', 'c.yaml', 'nodefault.mjs', 'throws.ts']);
  });
});
