/**
 * Past one machine with the k6 engine (issue 16 part 4), end to end with the real bin and a real k6
 * (`K6_BIN` or `k6` on PATH; skipped, with the reason, where there is none): `wsbench cluster up`
 * leaves a real cluster running; cross-node-broadcast runs against it un-sharded, then as 2 k6
 * processes on execution segments (`--shard 1/2` and `2/2`, started at once on one `--start-at`);
 * `wsbench merge` makes one report of the two partials.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveK6Path } from '../../engines/k6/binary.js';
import { mergeEncoded } from '../../model/histogram.js';
import type { RunReport } from '../../model/run-report.js';
import { validateReport } from '../../model/schema.js';
import type { PartialReport } from '../../reports/partial.js';
import { wsbench, type CliResult } from './support/cli.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

const k6 = resolveK6Path(undefined, process.env).path;
const SKIP = 'skipped: k6 not on PATH and K6_BIN not set';

/** 200 connections in 10 rooms (1 publisher + 19 members each), 5 msg/s for 1 + 4 s: 25 messages per publisher. */
const PLAN = ['--engine', 'k6', '--connections', '200', '--rooms', '10', '--rate', '5', '--warmup', '1', '--duration', '4', '--drain', '2'];
const CONNECTIONS = 200;
const ROOMS = 10;
const MEMBERS = 190;
const MESSAGES_PER_PUBLISHER = 25;

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

/** The rooms whose connections a k6 shard opened, and how many each: its `connections{room}` samples in k6's own output. */
function roomsConnected(out: string): Map<string, number> {
  const rooms = new Map<string, number>();
  for (const line of readFileSync(join(out, 'k6', 'samples.ndjson'), 'utf8').split('\n')) {
    if (!line.includes('"metric":"connections"') || !line.includes('"type":"Point"')) continue;
    const p = JSON.parse(line) as { data: { value: number; tags?: Record<string, string> } };
    const room = p.data.tags?.room;
    if (room && p.data.value > 0) rooms.set(room, (rooms.get(room) ?? 0) + p.data.value);
  }
  return rooms;
}

describe.skipIf(!k6)(k6 ? `k6 shards on execution segments, merged (a real k6: ${k6}; a real \`wsbench cluster up\` cluster)` : `k6 shards on execution segments (${SKIP})`, () => {
  const root = mkdtempSync(join(tmpdir(), 'wsb-k6-shards-'));
  const clusterDir = join(root, 'cluster');
  const tag = newTag();
  const env = { ...process.env, WSB_TEST_TAG: tag, ...(k6 ? { K6_BIN: k6 } : {}) };
  let whole: { res: CliResult; report: RunReport };
  let shards: Array<{ res: CliResult; out: string; partial: PartialReport }>;
  let merged: { res: CliResult; report: RunReport & { mergedFrom: { planId: string; shards: unknown[] } } };
  let downDone = false;

  beforeAll(async () => {
    const up = await wsbench(['cluster', 'up', '--out', clusterDir, '--nodes', '3', '--server-rate-limit', '1000'], { env });
    expect(up.code, up.stderr).toBe(0);
    const wholeOut = join(root, 'whole');
    whole = { res: await wsbench(['run', 'cross-node-broadcast', '--cluster', clusterDir, ...PLAN, '--out', wholeOut], { env }), report: readJson(join(wholeOut, 'report.json')) };
    // k6 starts, runs setup, then connects for ~3.5 s before publishing: the agreed start leaves room for all of it
    // (each shard's k6 finished setup ~9 s after the shard was spawned at load average 5; setup must end ~2.5 s before the start).
    const startAt = new Date(Date.now() + 26_000).toISOString();
    shards = await Promise.all(
      [1, 2].map(async (i) => {
        const out = join(root, `shard-${i}`);
        const res = await wsbench(['run', 'cross-node-broadcast', '--cluster', clusterDir, ...PLAN, '--shard', `${i}/2`, '--start-at', startAt, '--out', out], { env });
        return { res, out, partial: readJson<PartialReport>(join(out, 'partial.json')) };
      }),
    );
    const mergedOut = join(root, 'merged');
    merged = { res: await wsbench(['merge', ...shards.map((s) => s.out), '--out', mergedOut], { env }), report: readJson(join(mergedOut, 'report.json')) };
  }, 400_000);

  afterAll(async () => {
    if (!downDone) await wsbench(['cluster', 'down', clusterDir], { env });
  }, 60_000);

  it('each k6 shard ran its execution segment and wrote a valid partial of the same plan, exit 0', () => {
    expect(whole.res.code === 0 || whole.res.code === 1, whole.res.stderr).toBe(true);
    for (const [i, s] of shards.entries()) {
      expect(s.res.code, s.res.stderr).toBe(0);
      expect(validateReport(s.partial)).toEqual([]);
      expect(s.partial.shard).toMatchObject({ index: i + 1, count: 2, rooms: 5 });
      const cmd = readJson<{ args: string[] }>(join(s.out, 'k6', 'command.json'));
      expect(cmd.args.slice(cmd.args.indexOf('--execution-segment'), cmd.args.indexOf('--execution-segment') + 4)).toEqual(['--execution-segment', i === 0 ? '0:1/2' : '1/2:1', '--execution-segment-sequence', '0,1/2,1']);
    }
    expect(shards[0].partial.shard.planId).toBe(shards[1].partial.shard.planId);
    // One agreed t0 on both k6 processes (the script's WSB_T0 line).
    const t0s = shards.map((s) => /WSB_T0=(\d+)/.exec(readFileSync(join(s.out, 'logs', 'k6.stdout.log'), 'utf8') + readFileSync(join(s.out, 'logs', 'k6.stderr.log'), 'utf8'))?.[1]);
    expect(t0s[0]).toBeDefined();
    expect(t0s[1]).toBe(t0s[0]);
  });

  it("the two segments' connections are disjoint, whole rooms each, and together the plan's", () => {
    const rooms = shards.map((s) => roomsConnected(s.out));
    // Room k (0-based) in segment k mod 2, as the Node engine's shards: room-0, room-2, … | room-1, room-3, …
    expect([...rooms[0].keys()].sort()).toEqual(['room-0', 'room-2', 'room-4', 'room-6', 'room-8']);
    expect([...rooms[1].keys()].sort()).toEqual(['room-1', 'room-3', 'room-5', 'room-7', 'room-9']);
    for (const r of rooms) for (const n of r.values()) expect(n).toBe(CONNECTIONS / ROOMS);
    expect(shards.map((s) => s.partial.counters.connections)).toEqual(shards.map((s) => s.partial.shard.connections));
    expect(shards.reduce((a, s) => a + s.partial.counters.connections, 0)).toBe(CONNECTIONS);
    expect(merged.report.counters.connections).toBe(CONNECTIONS);
    // The nodes held the plan's connections once, not once per shard.
    expect(merged.report.counters.connections_peak).toBe(CONNECTIONS);
  });

  it("merged: every expected delivery arrived exactly once, and the expectation is the un-sharded plan's", () => {
    expect(merged.res.stderr).not.toContain('error WSB_');
    expect(validateReport(merged.report)).toEqual([]);
    const a = merged.report.accounting;
    expect(a.expected).toBe(MEMBERS * MESSAGES_PER_PUBLISHER);
    expect(a.expected).toBe(whole.report.accounting.expected);
    expect(a.received).toBe(a.expected);
    expect(a).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1 });
    expect(a.sameNode.expected + a.crossNode.expected).toBe(a.expected);
    expect(merged.report.counters.messages_published).toBe(ROOMS * MESSAGES_PER_PUBLISHER);
    expect(merged.report.counters.unexpected_arrivals).toBe(0);
    expect(merged.res.code).toBe(merged.report.verdict === 'pass' ? 0 : 1);
    expect(merged.report.targets.filter((t) => ['no-loss', 'no-duplicates', 'in-order'].includes(t.id)).map((t) => t.status)).toEqual(['pass', 'pass', 'pass']);
    expect(merged.report.mergedFrom.shards).toHaveLength(2);
  });

  it("merged histograms hold every partial's k6 samples: counts add up, p99 from the merged histogram", () => {
    const parts = shards.map((s) => s.partial);
    const m = merged.report.metrics;
    for (const name of ['broadcast_latency_ms', 'broadcast_latency_same_node_ms', 'broadcast_latency_cross_node_ms', 'connect_time_ms']) {
      expect(parts.every((p) => typeof p.metrics[name]?.hdr === 'string')).toBe(true);
      expect(m[name].count).toBe(parts.reduce((x, p) => x + p.metrics[name].count, 0));
      expect(m[name].count).toBe(mergeEncoded(parts.map((p) => p.metrics[name].hdr!)).totalCount);
    }
    // Every delivery of a message intended in the measured window is timed: members × 4 s × 5 msg/s.
    expect(m.broadcast_latency_ms.count).toBe(MEMBERS * 4 * 5);
    expect(m.connect_time_ms.count).toBe(CONNECTIONS);
    expect(m.broadcast_latency_ms.p99).toBe(Math.round(mergeEncoded(parts.map((p) => p.metrics.broadcast_latency_ms.hdr!)).getValueAtPercentile(99)) / 1000);
    const received = (r: { timeline: Array<{ received: number }> }) => r.timeline.reduce((x, p) => x + p.received, 0);
    expect(received(merged.report)).toBe(parts.reduce((x, p) => x + received(p), 0));
    expect(received(merged.report)).toBe(MEMBERS * MESSAGES_PER_PUBLISHER);
  });

  it('refuses to merge a k6 partial with a Node engine partial of the same options (different plans, coded error)', async () => {
    const nodeOut = join(root, 'node-shard-1');
    // No agreed start to wait for (the k6 shards' is long past): it starts publishing when it is ready.
    const nodeRun = await wsbench(['run', 'cross-node-broadcast', '--cluster', clusterDir, ...PLAN.slice(2), '--shard', '1/2', '--out', nodeOut], { env });
    expect(nodeRun.code, nodeRun.stderr).toBe(0);
    const mixed = await wsbench(['merge', nodeOut, shards[1].out, '--out', join(root, 'mixed')], { env });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('error WSB_MERGE_MIXED_PLANS');
  }, 120_000);

  it('cluster down leaves nothing running', async () => {
    const down = await wsbench(['cluster', 'down', clusterDir], { env });
    downDone = true;
    expect(down.code, down.stderr).toBe(0);
    expect(describePids(await waitNoRunProcesses({ tag, dir: clusterDir }))).toEqual([]);
  }, 60_000);
});
