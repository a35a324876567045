/**
 * Past one machine (issue 16 parts 3 and 4), end to end with the real bin: `wsbench cluster up`
 * leaves a real cluster running (redis-server, 3 socket.io nodes, nginx); `cross-node-broadcast`
 * runs against it as 1 shard and as 3 shards (3 separate `wsbench` processes started at once on one
 * agreed `--start-at`); `wsbench merge` makes one report of each; `merge` refuses a missing shard
 * and mixed plans; a rendered node-job's shard and merge commands run as their pods run them, against
 * it; `wsbench cluster down` leaves no process behind.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeEncoded } from '../../model/histogram.js';
import type { PartialReport } from '../../reports/partial.js';
import type { RunReport } from '../../model/run-report.js';
import { validateReport } from '../../model/schema.js';
import { parseAllDocuments } from 'yaml';
import { K8S_PORTS } from '../../render/cluster.js';
import { CONFIG_FILE } from '../../render/node-job.js';
import { RESULTS_DIR } from '../../render/results-claim.js';
import { BIN, wsbench, type CliResult } from './support/cli.js';
import { describePids, newTag, runProcesses, waitNoRunProcesses } from './support/run-processes.js';

const root = mkdtempSync(join(tmpdir(), 'wsb-shards-'));
const clusterDir = join(root, 'cluster-it');
const tag = newTag();
const env = { ...process.env, WSB_TEST_TAG: tag };
/** 300 connections in 10 rooms (1 publisher + 29 members each), 5 msg/s for 1 + 4 s: 25 messages per publisher. */
const PLAN = ['--connections', '300', '--rooms', '10', '--rate', '5', '--warmup', '1', '--duration', '4', '--drain', '2', '--workers', '1'];
const MEMBERS = 290;
const MESSAGES_PER_PUBLISHER = 25;

let up: CliResult;
let downDone = false;

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

/**
 * Runs shards 1…n of one plan at once, each its own `wsbench` process, on an agreed start `startInS`
 * seconds from now (none: each shard starts publishing when it is ready); resolves with their results and folders.
 */
async function runShards(n: number, startInS?: number): Promise<Array<{ res: CliResult; out: string }>> {
  const startAt = startInS === undefined ? [] : ['--start-at', new Date(Date.now() + startInS * 1000).toISOString()];
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const out = join(root, `shards-${n}-${i + 1}`);
      const res = await wsbench(['run', 'cross-node-broadcast', '--cluster', clusterDir, ...PLAN, '--shard', `${i + 1}/${n}`, ...startAt, '--out', out], { env });
      return { res, out };
    }),
  );
}

async function merge(dirs: string[], out: string): Promise<{ res: CliResult; report: RunReport & { mergedFrom: { planId: string; shards: unknown[] } } }> {
  const res = await wsbench(['merge', ...dirs, '--out', out], { env });
  return { res, report: readJson(join(out, 'report.json')) };
}

beforeAll(async () => {
  up = await wsbench(['cluster', 'up', '--out', clusterDir, '--nodes', '3', '--server-rate-limit', '1000'], { env });
}, 120_000);

afterAll(async () => {
  // Whatever a failed test left: the keeper stops the cluster.
  if (!downDone) await wsbench(['cluster', 'down', clusterDir], { env });
}, 60_000);

describe('wsbench cluster up', () => {
  it('returns with the cluster up, printing its URL, nodes, id, secret file and how to stop it', async () => {
    expect(up.code, up.stderr).toBe(0);
    const state = readJson<{ id: string; state: string; url: string; nodes: Array<{ url: string }>; jwtSecretFile: string }>(join(clusterDir, 'cluster.json'));
    expect(state.state).toBe('up');
    expect(state.nodes).toHaveLength(3);
    expect(up.stdout).toContain(state.url);
    for (const n of state.nodes) expect(up.stdout).toContain(n.url);
    expect(up.stdout).toContain(`wsbench cluster down ${state.id}`);
    expect(up.stdout).toContain(state.jwtSecretFile);
    const health = await fetch(`${state.url}/health`);
    expect(health.status).toBe(200);
    const ls = await wsbench(['cluster', 'ls', '--results', root, '--json'], { env });
    expect(JSON.parse(ls.stdout)).toMatchObject([{ id: state.id, live: true, url: state.url }]);
    // `wsbench clean` leaves a cluster that is up alone.
    const clean = await wsbench(['clean', clusterDir], { env });
    expect(clean.stdout).toContain('0 processes killed');
    expect(clean.stdout).toContain(`wsbench cluster down ${state.id}`);
  });
});

describe('run --cluster', () => {
  it('refuses a run that needs a higher rate limit than the cluster allows, naming the cluster up flag (exit 2, nothing run)', async () => {
    const out = join(root, 'too-fast');
    const r = await wsbench(['run', 'cross-node-broadcast', '--cluster', clusterDir, '--rate', '20', '--out', out], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error WSB_INVALID_OPTION');
    expect(r.stderr).toContain('allows 1000 messages/minute per connection');
    expect(r.stderr).toContain('wsbench cluster up --server-rate-limit 1810');
  });
});

describe('cross-node-broadcast as 1 shard and as 3 shards against it, merged', () => {
  let one: Array<{ res: CliResult; out: string }>;
  let three: Array<{ res: CliResult; out: string }>;
  let mergedOne: Awaited<ReturnType<typeof merge>>;
  let mergedThree: Awaited<ReturnType<typeof merge>>;

  beforeAll(async () => {
    // A shard is connected, joined and waiting ~4.5 s after it is spawned (3 at once, load average
    // 8; 3–5 s after its process started at 12): the agreed start leaves 2–3 times that (a missed
    // start is WSB_SHARD_START_MISSED, not a pass). A single shard has no one to agree with: it
    // starts publishing when it is ready.
    one = await runShards(1);
    three = await runShards(3, 12);
    mergedOne = await merge(one.map((s) => s.out), join(root, 'merged-1'));
    mergedThree = await merge(three.map((s) => s.out), join(root, 'merged-3'));
  }, 300_000);

  it('every shard wrote a valid partial report of its share and exited 0', () => {
    for (const s of [...one, ...three]) {
      expect(s.res.code, s.res.stderr).toBe(0);
      const p = readJson<PartialReport>(join(s.out, 'partial.json'));
      expect(validateReport(p)).toEqual([]);
      expect(p.topology.driver).toBe('external');
      // What the clients connected to, and the wall-clock zero merge lines the shards' seconds up by.
      expect(p.topology.url).toBe(readJson<{ url: string }>(join(clusterDir, 'cluster.json')).url);
      expect(Number.isFinite(Date.parse(p.shard.measureFrom ?? ''))).toBe(true);
    }
    const parts = three.map((s) => readJson<PartialReport>(join(s.out, 'partial.json')));
    expect(parts.map((p) => p.shard.index)).toEqual([1, 2, 3]);
    expect(new Set(parts.map((p) => p.shard.planId)).size).toBe(1);
    // Rooms 1,4,7,10 | 2,5,8 | 3,6,9: whole rooms, every shard's connections = its rooms × 30.
    expect(parts.map((p) => p.shard.rooms)).toEqual([4, 3, 3]);
    expect(parts.map((p) => p.counters.connections)).toEqual([120, 90, 90]);
  });

  it('merged: every expected delivery arrived exactly once, and the expectation is the un-sharded plan\'s', () => {
    for (const { res, report } of [mergedOne, mergedThree]) {
      expect(res.stderr).not.toContain('error WSB_');
      expect(validateReport(report)).toEqual([]);
      const a = report.accounting;
      expect(a.expected).toBe(MEMBERS * MESSAGES_PER_PUBLISHER);
      expect(a.received).toBe(a.expected);
      expect(a).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1 });
      expect(a.sameNode.expected + a.crossNode.expected).toBe(a.expected);
      expect(report.counters.connections).toBe(300);
      // Every shard's workers held their share at once: the merged peak is the whole plan's.
      expect(report.counters.connections_peak).toBe(300);
      expect(report.counters.messages_published).toBe(10 * MESSAGES_PER_PUBLISHER);
      expect(report.counters.unexpected_arrivals).toBe(0);
      expect(Object.values(report.connectionsPerNode).reduce((x, y) => x + y, 0)).toBe(300);
      expect(res.code).toBe(report.verdict === 'pass' ? 0 : 1);
      expect(report.targets.map((t) => t.id)).toEqual(['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'no-leak']);
      expect(report.targets.filter((t) => t.id !== 'latency-p99' && t.id !== 'cross-node-latency-p99').map((t) => t.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
    }
    expect(mergedThree.report.mergedFrom.shards).toHaveLength(3);
    // One agreed start: the shards' measured phases began in the same wall-clock second, so merge moved none.
    expect(mergedThree.res.stderr).toContain('measured phases started within');
    expect(mergedThree.report.generator.notes.find((n) => n.startsWith('timeline:'))).toContain('no shard moved');
  });

  it("merged histograms hold every partial's samples: counts add up, percentiles come from the merged histogram", () => {
    const parts = three.map((s) => readJson<PartialReport>(join(s.out, 'partial.json')));
    const m = mergedThree.report.metrics;
    for (const name of ['broadcast_latency_ms', 'broadcast_latency_same_node_ms', 'broadcast_latency_cross_node_ms', 'connect_time_ms']) {
      expect(m[name].count).toBe(parts.reduce((a, p) => a + p.metrics[name].count, 0));
      expect(m[name].count).toBe(mergeEncoded(parts.map((p) => p.metrics[name].hdr!)).totalCount);
    }
    expect(m.connect_time_ms.count).toBe(300);
    expect(m.broadcast_latency_ms.count).toBe(m.broadcast_latency_same_node_ms.count + m.broadcast_latency_cross_node_ms.count);
    expect(m.broadcast_latency_ms.p99).toBe(Math.round(mergeEncoded(parts.map((p) => p.metrics.broadcast_latency_ms.hdr!)).getValueAtPercentile(99)) / 1000);
    // Timeline seconds sum the shards' deliveries.
    const received = (r: { timeline: Array<{ received: number }> }) => r.timeline.reduce((a, x) => a + x.received, 0);
    expect(received(mergedThree.report)).toBe(parts.reduce((a, p) => a + received(p), 0));
  });

  it('refuses a missing shard, a shard given twice, and partials of different plans, with coded errors (exit 2)', async () => {
    const missing = await wsbench(['merge', three[0].out, three[2].out, '--out', join(root, 'x1')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error WSB_MERGE_MISSING_SHARD');
    expect(missing.stderr).toContain('missing 2/3');
    const twice = await wsbench(['merge', three[0].out, three[0].out, three[1].out, three[2].out, '--out', join(root, 'x2')], { env });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('error WSB_MERGE_MISSING_SHARD');
    const mixed = await wsbench(['merge', one[0].out, three[1].out, three[2].out, '--out', join(root, 'x3')], { env });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('error WSB_MERGE_MIXED_PLANS');
  });
});

describe('a rendered node-job against it: the shard and merge commands run as their pods run them', () => {
  it("2 shards of the Indexed Job (the rendered config, --url, --shard from JOB_COMPLETION_INDEX, the agreed start) and the merge Job's command: one exact report", async () => {
    const dir = join(root, 'node-job');
    const rendered = join(dir, 'rendered');
    // The pods' paths on this machine: the config mount, the results claim, `wsbench` on PATH, the NGINX sidecar → the cluster's LB.
    const r = await wsbench(['render', 'node-job', 'cross-node-broadcast', '--parallelism', '2', '--image', 'registry.example/wsbench:0.1.0', '--connections', '60', '--rooms', '4', '--rate', '5', '--warmup', '1', '--duration', '2', '--drain', '1', '--start-delay', '10', '--out', rendered], { env });
    expect(r.code, r.stderr).toBe(0);
    const objects = readdirSync(rendered)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(join(rendered, f), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: any }));
    const [shardJob, mergeJob] = objects.filter((o) => o.kind === 'Job');
    const state = readJson<{ url: string; jwtSecretFile: string }>(join(clusterDir, 'cluster.json'));
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'wsbench.json'), objects.find((o) => o.kind === 'ConfigMap')!.data!['wsbench.json']);
    writeFileSync(join(dir, 'bin', 'wsbench'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    const local = (cmd: string) => cmd.replaceAll(CONFIG_FILE, join(dir, 'wsbench.json')).replaceAll(`${RESULTS_DIR}/`, `${join(dir, 'results')}/`).replace(`http://127.0.0.1:${K8S_PORTS.lb}`, state.url);
    const podEnv = { ...env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, WSB_JWT_SECRET: readFileSync(state.jwtSecretFile, 'utf8').trim() };
    const sh = (cmd: string, extra: Record<string, string> = {}) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = spawn('sh', ['-c', cmd], { env: { ...podEnv, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        c.stdout.on('data', (b: Buffer) => (out += b.toString()));
        c.stderr.on('data', (b: Buffer) => (out += b.toString()));
        c.on('exit', (code) => resolve({ code, out }));
      });
    const shardCmd = local(shardJob.spec.template.spec.containers[0].command[2] as string);
    const shards = await Promise.all([0, 1].map((i) => sh(shardCmd, { JOB_COMPLETION_INDEX: String(i) })));
    for (const s of shards) expect(s.code, s.out.slice(-2000)).toBe(0);
    const merged = await sh(local(mergeJob.spec.template.spec.containers[0].command[2] as string));
    expect([0, 1], merged.out.slice(-2000)).toContain(merged.code);
    const report = readJson<RunReport & { mergedFrom: { shards: Array<{ index: number }> } }>(join(dir, 'results', 'merged', 'report.json'));
    expect(report.mergedFrom.shards.map((x) => x.index)).toEqual([1, 2]);
    // 4 rooms of 15 (1 publisher + 14 members), 5 msg/s for 1 + 2 s: 56 members × 15 messages.
    expect(report.accounting).toMatchObject({ expected: 56 * 15, received: 56 * 15, lost: 0, duplicated: 0 });
    expect(report.counters.connections).toBe(60);
    expect(report.topology).toMatchObject({ driver: 'external', url: state.url });
  }, 180_000);
});

describe('wsbench cluster up that cannot start', () => {
  it('fails with a coded error, exit 2, and leaves no process (the load-balancer port is taken)', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const dir = join(root, 'cluster-blocked');
    const badTag = newTag();
    try {
      const r = await wsbench(['cluster', 'up', '--out', dir, '--nodes', '1', '--lb-port', String(port)], { env: { ...process.env, WSB_TEST_TAG: badTag } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/error WSB_[A-Z_]+: cluster \S+ did not come up/);
      expect(readJson<{ state: string }>(join(dir, 'cluster.json')).state).toBe('failed');
      expect(describePids(await waitNoRunProcesses({ tag: badTag, dir }))).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 90_000);
});

describe('wsbench cluster down after its keeper was killed', () => {
  it('removes every process the keeper started', async () => {
    const dir = join(root, 'cluster-orphaned');
    const orphanTag = newTag();
    const upR = await wsbench(['cluster', 'up', '--out', dir, '--nodes', '2'], { env: { ...process.env, WSB_TEST_TAG: orphanTag } });
    expect(upR.code, upR.stderr).toBe(0);
    const state = readJson<{ keeper: { pid: number } }>(join(dir, 'cluster.json'));
    process.kill(state.keeper.pid, 'SIGKILL');
    // redis-server, 2 nodes and nginx outlive their keeper…
    await new Promise((r) => setTimeout(r, 300));
    expect(runProcesses({ tag: orphanTag, dir }).length).toBeGreaterThanOrEqual(4);
    // …until `cluster down` sweeps what its pids.json names.
    const down = await wsbench(['cluster', 'down', dir], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain('is gone; removing what it started');
    expect(describePids(await waitNoRunProcesses({ tag: orphanTag, dir }))).toEqual([]);
    expect(readJson<{ state: string }>(join(dir, 'cluster.json')).state).toBe('down');
  }, 120_000);
});

describe('wsbench cluster down', () => {
  it('stops every process of the cluster', async () => {
    expect(runProcesses({ tag, dir: clusterDir }).length).toBeGreaterThanOrEqual(6); // keeper, redis, 3 nodes, nginx
    const down = await wsbench(['cluster', 'down', clusterDir], { env });
    downDone = true;
    expect(down.code, down.stderr).toBe(0);
    expect(describePids(await waitNoRunProcesses({ tag, dir: clusterDir }))).toEqual([]);
    expect(readJson<{ state: string }>(join(clusterDir, 'cluster.json')).state).toBe('down');
  }, 60_000);
});
