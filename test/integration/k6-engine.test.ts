/**
 * `wsbench run … --engine k6` through the real bin. The end-to-end test needs a real k6 binary
 * (`K6_BIN` or `k6` on PATH) and reports itself as skipped, with the reason, where there is none;
 * k6 is not installable on every machine (it is neither on npm nor in Debian).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveK6Path } from '../../engines/k6/binary.js';
import { isAlive, pidsMatching } from './support/processes.js';

const BIN = fileURLToPath(new URL('../../bin/wsbench.js', import.meta.url));

function wsbench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const k6 = resolveK6Path(undefined, process.env).path;

describe('wsbench run --engine k6 (the real bin)', () => {
  it('with no k6 (--k6 /nonexistent): WSB_K6_NOT_FOUND with how to install it, exit 2, and no cluster process started', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-k6-missing-'));
    const r = await wsbench(['run', 'cross-node-broadcast', '--engine', 'k6', '--k6', '/nonexistent', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error WSB_K6_NOT_FOUND: k6 not found (--k6 /nonexistent: no such executable file)');
    expect(r.stderr).toMatch(/hint: install k6 .*github\.com\/grafana\/k6\/releases/);
    expect(r.stderr).not.toContain('starting cluster');
    // k6 is looked for before the cluster starts: no redis-server / nginx / node was ever spawned for this run.
    expect(existsSync(join(out, 'pids.json'))).toBe(false);
    expect(existsSync(join(out, 'logs')) ? readdirSync(join(out, 'logs')) : []).toEqual([]);
    expect(await pidsMatching(out)).toEqual([]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { verdict: string; error?: { code: string }; topology: { redis: string } };
    expect(report.verdict).toBe('error');
    expect(report.error?.code).toBe('WSB_K6_NOT_FOUND');
    expect(report.topology.redis).toBe('not started');
    rmSync(out, { recursive: true, force: true });
  });

  it('refuses a scenario without a k6 script, --k6 without --engine k6, and an unknown engine (exit 2, nothing started)', async () => {
    const a = await wsbench(['run', 'throughput', '--engine', 'k6']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('error WSB_INVALID_OPTION');
    expect(a.stderr).toContain('--engine k6: throughput has no k6 script (k6 scripts: cross-node-broadcast, connection-capacity, reconnection-storm, node-kill, redis-outage)');
    const b = await wsbench(['run', 'cross-node-broadcast', '--k6', '/usr/bin/k6']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--k6: only applies with --engine k6');
    const c = await wsbench(['run', 'cross-node-broadcast', '--engine', 'jmeter']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('error WSB_INVALID_OPTION: invalid value');
  });

});

/** What the k6 end-to-end tests read from report.json. */
interface K6Report {
  verdict: string;
  metrics: Record<string, { count: number; p99: number }>;
  counters: Record<string, number>;
  accounting: {
    expected: number;
    received: number;
    lost: number;
    duplicated: number;
    reordered: number;
    deliveryRatio: number;
    sameNode: { expected: number; received: number; lost: number };
    crossNode: { expected: number; received: number; lost: number };
    losses?: { lostConnected: number; lostDisconnected: number; lostPublisherDown: number; late: number };
  };
  connectionsPerNode: Record<string, number>;
  targets: Array<{ id: string; status: string; actual: number | null }>;
  events: Array<{ type: string; detail?: string; outcome?: string; target?: string; atMs: number }>;
  windows?: Record<string, { sameNode: { expected: number; lost: number; deliveryRatio: number }; crossNode: { received: number } }>;
  reconnection?: { disconnections: number; reconnected: number; neverBack: number };
  generator: { workers: Array<{ cpuPercentMean: number; clients: number; eventLoopLagP99Ms: number }>; bottleneck: boolean; notes: string[]; processSamples?: Array<{ t: number; cpuPercent: number; rssBytes: number | null }> };
}

const SKIP = 'skipped: k6 not on PATH and K6_BIN not set';
/** Small runs (CI has a budget): 150 connections in 5 rooms (29 members each) over 3 nodes, 5 msg/s. */
const SMALL = ['--connections', '150', '--rooms', '5', '--rate', '5', '--warmup', '1', '--drain', '2'];

/** Runs the real bin with the real k6 into a fresh folder; asserts nothing was left running. */
async function k6Run(scenario: string, flags: string[]): Promise<{ r: K6Report; code: number | null; stderr: string }> {
  const out = mkdtempSync(join(tmpdir(), `wsb-k6-${scenario}-`));
  const res = await wsbench(['run', scenario, '--engine', 'k6', '--k6', k6!, ...flags, '--out', out]);
  expect(res.stderr).not.toContain('error WSB_');
  const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as K6Report;
  const pids = (JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')) as { pids: Array<number | { pid: number }> }).pids.map((p) => (typeof p === 'number' ? p : p.pid));
  expect(pids.filter(isAlive)).toEqual([]);
  expect(await pidsMatching(out)).toEqual([]);
  rmSync(out, { recursive: true, force: true });
  return { r, code: res.code, stderr: res.stderr };
}

/** Every target judged (measured: pass or fail, never unknown), and the exit code is the verdict's. */
function expectJudged(r: K6Report, code: number | null, ids: string[]): void {
  expect(r.targets.map((t) => t.id)).toEqual(ids);
  for (const t of r.targets) expect(`${t.id}: ${t.status}`).toMatch(/: (pass|fail)$/);
  expect(code).toBe(r.verdict === 'pass' ? 0 : 1);
}

/** The k6 process was watched from /proc: one generator "worker" with samples on the run's clock. */
function expectGeneratorHealth(r: K6Report, connections: number): void {
  expect(r.generator.workers).toHaveLength(1);
  expect(r.generator.workers[0].clients).toBe(connections);
  expect(r.generator.processSamples!.length).toBeGreaterThan(2);
  expect(r.generator.processSamples!.some((s) => s.cpuPercent > 0 && s.rssBytes !== null && s.rssBytes > 0)).toBe(true);
  expect(r.generator.notes.some((n) => n.includes('/proc every second'))).toBe(true);
}

/** Every connection landed, the nodes counted the same number, and the report's peak is theirs. */
function expectConnections(r: K6Report, connections: number): void {
  const why = JSON.stringify({ counters: r.counters, perNode: r.connectionsPerNode, notes: r.generator.notes.slice(-4) });
  expect(r.counters.connections, why).toBe(connections);
  expect(r.counters.connect_failures, why).toBe(0);
  expect(Object.values(r.connectionsPerNode).reduce((a, b) => a + b, 0)).toBe(connections);
  expect(Object.values(r.connectionsPerNode).filter((n) => n > 0).length).toBeGreaterThan(1);
  expect(r.counters.connections_peak, why).toBe(connections);
}

describe.skipIf(!k6)(k6 ? `the k6 engine end to end (a real k6: ${k6}; the real local cluster)` : `the k6 engine end to end (${SKIP})`, () => {
  it('cross-node-broadcast: every scheduled delivery arrived exactly once, same-node and cross-node; targets judged; generator health', async () => {
    const { r, code } = await k6Run('cross-node-broadcast', [...SMALL, '--duration', '3']);
    expectConnections(r, 150);
    const a = r.accounting;
    // Expected from the schedule: 5 publishers × (1 s warm-up + 3 s) × 5/s, each to the 29 members of its room.
    expect(r.counters.messages_scheduled).toBe(5 * 4 * 5);
    expect(a.expected).toBe(r.counters.messages_scheduled * 29);
    expect(a.received).toBe(a.expected);
    expect(a.lost).toBe(0);
    expect(a.duplicated).toBe(0);
    expect(a.reordered).toBe(0);
    expect(a.deliveryRatio).toBe(1);
    expect(a.sameNode.received).toBeGreaterThan(0);
    expect(a.crossNode.received).toBeGreaterThan(0);
    expect(a.sameNode.expected + a.crossNode.expected).toBe(a.expected);
    expect(a.losses).toEqual({ lostConnected: 0, lostDisconnected: 0, lostPublisherDown: 0, late: 0, sameNode: expect.anything(), crossNode: expect.anything() });
    expect(r.counters.unexpected_arrivals).toBe(0);
    expect(r.metrics.broadcast_latency_ms.count).toBe(5 * 3 * 5 * 29);
    expectJudged(r, code, ['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'no-leak']);
    expectGeneratorHealth(r, 150);
    expect(r.generator.notes.some((n) => n.includes('whole milliseconds'))).toBe(true);
  });

  it('connection-capacity: connections_peak is what the nodes held at once; an impossible --target fails the run (exit 1)', async () => {
    const { r, code } = await k6Run('connection-capacity', ['--connections', '300', '--connect-rate', '150', '--hold', '3', '--target', 'connections=1000000']);
    expectConnections(r, 300);
    expect(r.counters.server_connections_reported).toBe(300);
    expectJudged(r, code, ['connections', 'memory-per-connection']);
    expect(r.targets[0]).toMatchObject({ id: 'connections', status: 'fail', actual: 300 });
    expect(code).toBe(1);
    expectGeneratorHealth(r, 300);
  });

  it('node-kill: the harness SIGKILLs node-2 on k6’s clock; its clients come back elsewhere; nobody connected lost anything; a crossed k6 threshold exits 1', async () => {
    // no-duplicates=-1 (deliveries_duplicated count==-1) can never hold, and k6 itself judges it:
    // k6 exits 99 and that missed target is wsbench's exit 1, beside the targets judged as usual.
    const { r, code } = await k6Run('node-kill', [...SMALL, '--duration', '8', '--kill-at', '2', '--node', 'node-2', '--target', 'no-duplicates=-1']);
    expect(r.events.find((e) => e.type === 'k6' && e.detail?.startsWith('k6 exited'))?.detail).toBe('k6 exited 99 (thresholds have failed)');
    expect(r.targets.find((t) => t.id === 'no-duplicates')).toMatchObject({ status: 'fail', actual: 0 });
    expect(r.verdict).toBe('fail');
    expect(code).toBe(1);
    expectConnections(r, 150);
    expect(r.events.find((e) => e.type === 'kill-node')).toMatchObject({ target: 'node-2', outcome: 'ok' });
    expect(r.events.findIndex((e) => e.type === 'kill-node')).toBeGreaterThan(r.events.findIndex((e) => e.type === 'phase' && e.detail?.startsWith('k6 t0')));
    const rc = r.reconnection!;
    expect(rc.disconnections).toBe(r.connectionsPerNode['node-2']);
    expect(rc.reconnected).toBe(rc.disconnections);
    expect(rc.neverBack).toBe(0);
    const l = r.accounting.losses!;
    expect(l.lostConnected).toBe(0);
    expect(l.lostDisconnected + l.lostPublisherDown).toBe(r.accounting.lost);
    expect(r.accounting.lost).toBeGreaterThan(0);
    expect(r.accounting.duplicated).toBe(0);
    expectJudged(r, code, ['reconnect-all', 'no-loss-while-connected', 'no-duplicates', 'no-leak', 'chaos-applied']);
    expect(r.targets.find((t) => t.id === 'no-loss-while-connected')!.status).toBe('pass');
    expectGeneratorHealth(r, 150);
  });

  it('redis-outage: Redis stops on k6’s clock; same-node delivery goes on during the outage, cross-node delivery resumes', async () => {
    const { r, code } = await k6Run('redis-outage', [...SMALL, '--duration', '6', '--outage-at', '1', '--outage', '1']);
    expectConnections(r, 150);
    const stop = r.events.find((e) => e.type === 'stop-redis');
    const start = r.events.find((e) => e.type === 'start-redis');
    expect(stop).toMatchObject({ target: 'redis', outcome: 'ok' });
    expect(start).toMatchObject({ target: 'redis', outcome: 'ok' });
    expect(start!.atMs).toBeGreaterThan(stop!.atMs);
    expect(Object.keys(r.windows!)).toEqual(['before', 'redis-outage', 'after']);
    const w = r.windows!['redis-outage'];
    expect(w.sameNode.expected).toBeGreaterThan(0);
    expect(w.sameNode.lost).toBe(0);
    expect(r.windows!.after.crossNode.received).toBeGreaterThan(0);
    expect(r.counters.cross_node_resumed_after_ms).toBeGreaterThanOrEqual(0);
    expect(r.reconnection).toBeUndefined();
    expectJudged(r, code, ['same-node-during-redis-outage', 'cross-node-resumes', 'no-leak', 'no-loss-outside-redis-outage', 'chaos-applied']);
    expect(r.targets[0]).toMatchObject({ status: 'pass', actual: 1 });
  });

  it('reconnection-storm: publishes, so no-loss-while-connected is measured; both storms on k6’s clock, every client back', async () => {
    const { r, code } = await k6Run('reconnection-storm', [...SMALL, '--duration', '14', '--storm-at', '1', '--gap', '1']);
    expectConnections(r, 150);
    // Through cluster/chaos.ts as under the Node engine: NGINX's port seen to refuse, then to accept — observed, not assumed.
    const lbActions = r.events.filter((e) => e.type === 'stop-lb' || e.type === 'start-lb').map((e) => `${e.type} ${e.outcome} ${e.detail?.replace(/port \d+/, 'port N')}`);
    expect(lbActions).toEqual([0, 1].flatMap(() => ['stop-lb ok observed: port N refuses connections', 'start-lb ok observed: port N accepts connections']));
    expect(r.counters).toMatchObject({ chaos_actions_failed: 0, chaos_actions_unobserved: 0 });
    expect(r.targets.find((t) => t.id === 'chaos-applied')).toMatchObject({ status: 'pass', actual: 0 });
    expect(r.events.filter((e) => e.type === 'all-back').map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(r.counters.messages_published).toBeGreaterThan(0);
    expect(r.reconnection!.disconnections).toBe(300);
    expect(r.reconnection!.neverBack).toBe(0);
    expect(r.metrics.reconnect_time_socketio_ms.count).toBe(150);
    expect(r.metrics.reconnect_time_full_jitter_ms.count).toBe(150);
    const l = r.accounting.losses!;
    expect(l.lostConnected + l.lostDisconnected + l.lostPublisherDown).toBe(r.accounting.lost);
    expectJudged(r, code, ['reconnect-all', 'no-loss-while-connected', 'no-leak', 'chaos-applied']);
  });
});
