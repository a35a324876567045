/**
 * cross-node-broadcast end to end against the ws and Bun reference servers (the socket.io run is
 * cross-node-broadcast.test.ts): real redis-server, nginx, 3 nodes of the variant, 300 connections
 * speaking the JSON wire protocol. Asserts spread, exact accounting and what the report says about
 * the server under test.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExactDelivery, expectSpreadOverThreeNodes } from './support/assert-run.js';
import { buildPlan } from '../../cli/plan.js';
import { run, type RunOutcome } from '../../runner/run.js';
import { eventsInto } from './support/run-events.js';
import { isAlive, pidsMatching } from './support/processes.js';

const ADAPTER = { ws: 'custom ioredis pub/sub', bun: 'Bun server.publish + ioredis pub/sub' } as const;

describe.each(['ws', 'bun'] as const)('cross-node-broadcast against --server %s (local driver, 3 nodes)', (server) => {
  let outcome: RunOutcome;
  let pids: () => number[] = () => [];
  let seenPids: number[] = [];
  let stderr = '';
  let out = '';

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), `wsb-it-${server}-`));
    const plan = buildPlan('cross-node-broadcast', {
      server,
      connections: '300',
      rooms: '10',
      rate: '5',
      duration: '3',
      warmup: '1',
      drain: '1',
      out,
    });
    const err = new PassThrough();
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const poll = setInterval(() => (seenPids = [...new Set([...seenPids, ...pids()])]), 200);
    outcome = await run(plan, { onEvent: eventsInto(err), signal: new AbortController().signal, onPids: (p) => (pids = p) });
    clearInterval(poll);
  }, 120_000);

  afterAll(() => {
    for (const pid of seenPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('ran without a harness error and records the server, its adapter and versions', () => {
    expect(outcome.report.error, stderr).toBeUndefined();
    expect(outcome.exitCode).toBe(outcome.report.verdict === 'pass' ? 0 : 1);
    const t = outcome.report.topology;
    expect(t.server).toBe(server);
    expect(t.adapter).toBe(ADAPTER[server]);
    expect(Object.keys(t.versions)).toEqual(expect.arrayContaining([server === 'ws' ? 'ws' : 'bun', 'ioredis', 'redis', 'nginx']));
  });

  it('spread connections over all 3 nodes, and the per-node counts sum to the total', () => {
    expectSpreadOverThreeNodes(outcome.report, 300);
  });

  it('delivered every message across nodes exactly once and in order', () => {
    // 10 rooms × (300 − 10 publishers) / 10 = 29 members per room.
    expectExactDelivery(outcome.report, 29);
    const m = outcome.report.metrics;
    expect(m.broadcast_latency_ms.count).toBe(m.broadcast_latency_same_node_ms.count + m.broadcast_latency_cross_node_ms.count);
    expect(m.connect_time_ms.count).toBe(300);
  });

  it('left no process of the run behind', async () => {
    expect(seenPids.length).toBeGreaterThanOrEqual(6); // redis, 3 nodes, nginx, ≥1 worker
    expect(seenPids.filter(isAlive)).toEqual([]);
    expect(await pidsMatching(out)).toEqual([]);
  });
});
