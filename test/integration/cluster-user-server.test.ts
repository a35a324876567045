/**
 * `wsbench cluster up` with the user's server as the nodes, through the real bin, as `run` takes
 * it: examples/seed-002's config (`server: { command: 'node server.js', … }`, its TS config loaded
 * as `run` loads it) → a cluster that stays up; a run of the same config `--cluster` against it;
 * `cluster down` leaves nothing. And the flag form (`--server-command`, a tiny server of
 * test/integration/servers/) whose keeper is killed: `wsbench clean` removes its nodes.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../model/run-report.js';
import { wsbench } from './support/cli.js';
import { exampleConfig } from './support/examples.js';
import { describePids, newTag, runProcesses, waitNoRunProcesses } from './support/run-processes.js';

const root = mkdtempSync(join(tmpdir(), 'wsb-cluster-user-'));
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const WS_SERVER = fileURLToPath(new URL('./servers/ws-json-server.mjs', import.meta.url));
const started: string[] = [];

afterAll(async () => {
  // Whatever a failed test left up.
  for (const dir of started) await wsbench(['cluster', 'down', dir], { env: process.env });
}, 60_000);

describe('wsbench cluster up with your server', () => {
  it('--config examples/seed-002: its nodes stay up, a run of the same config --cluster measures them, cluster down stops them', async () => {
    const tag = newTag();
    const env = { ...process.env, WSB_TEST_TAG: tag };
    const dir = join(root, 'cluster-seed-002');
    started.push(dir);
    const up = await wsbench(['cluster', 'up', '--config', exampleConfig('seed-002'), '--nodes', '2', '--out', dir], { env });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/cluster \S+ up \(local, 2 custom nodes \(node server\.js\)\)/);
    const state = readJson<{ id: string; server: string; userServer?: { command?: string }; nodes: unknown[] }>(join(dir, 'cluster.json'));
    expect(state.userServer).toEqual({ command: 'node server.js' });
    expect(state.nodes).toHaveLength(2);
    // keeper, redis-server, 2 nodes (each `sh -c` and its node), nginx
    expect(runProcesses({ tag, dir }).length).toBeGreaterThanOrEqual(5);

    const out = join(root, 'run-seed-002');
    const run = await wsbench(['run', 'cross-node-broadcast', '--config', exampleConfig('seed-002'), '--cluster', dir, '--connections', '40', '--rooms', '4', '--rate', '2', '--warmup', '1', '--duration', '2', '--drain', '1', '--out', out], { env });
    const report = readJson<RunReport>(join(out, 'report.json'));
    expect(report.error, run.stderr).toBeUndefined();
    expect(report.accounting.expected).toBeGreaterThan(0);
    expect(report.accounting.received).toBe(report.accounting.expected);
    expect(Object.keys(report.connectionsPerNode).sort()).toEqual(['node-1', 'node-2']);
    expect(report.topology).toMatchObject({ driver: 'external', server: 'custom', serverCommand: 'node server.js' });
    expect(run.code).toBe(report.verdict === 'pass' ? 0 : 1);

    // Another server's run against this cluster is refused, naming what the cluster runs.
    const other = await wsbench(['run', 'cross-node-broadcast', '--cluster', dir, '--server', 'ws', '--out', join(root, 'run-refused')], { env });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`cluster ${state.id} runs your server's nodes (node server.js)`);

    // …and so is a run that does not say how to speak to it.
    const bare = await wsbench(['run', 'cross-node-broadcast', '--cluster', dir, '--out', join(root, 'run-no-protocol')], { env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(`protocol: cluster ${dir} runs your server, and it needs a protocol profile`);

    const down = await wsbench(['cluster', 'down', dir], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(describePids(await waitNoRunProcesses({ tag, dir }))).toEqual([]);
    expect(readJson<{ state: string }>(join(dir, 'cluster.json')).state).toBe('down');
  }, 180_000);

  it('--server-command (its credential redacted in cluster.json); with its keeper killed, wsbench clean removes the nodes', async () => {
    const tag = newTag();
    const env = { ...process.env, WSB_TEST_TAG: tag };
    const dir = join(root, 'cluster-flag');
    started.push(dir);
    const up = await wsbench(['cluster', 'up', '--server-command', `JWT_SECRET=cluster-test-secret node ${WS_SERVER}`, '--nodes', '2', '--out', dir], { env });
    expect(up.code, up.stderr).toBe(0);
    const state = readJson<{ keeper: { pid: number }; userServer?: { command?: string }; nodes: Array<{ url: string }> }>(join(dir, 'cluster.json'));
    expect(state.userServer).toEqual({ command: `JWT_SECRET=<redacted> node ${WS_SERVER}` });
    expect(readFileSync(join(dir, 'cluster.json'), 'utf8')).not.toContain('cluster-test-secret');
    // Its nodes answer (the tiny server's /health names the node).
    for (const [i, n] of state.nodes.entries()) expect(((await (await fetch(`${n.url}/health`)).json()) as { nodeId: string }).nodeId).toBe(`node-${i + 1}`);
    process.kill(state.keeper.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(runProcesses({ tag, dir }).length).toBeGreaterThanOrEqual(4);
    const clean = await wsbench(['clean', dir], { env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(describePids(await waitNoRunProcesses({ tag, dir }))).toEqual([]);
  }, 120_000);
});
