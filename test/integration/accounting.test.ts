/**
 * Issue 15, the measurement half, against real clusters (local driver: redis-server, nginx, three
 * reference nodes, real signals):
 * - a publisher stalled past the end of the run: what never left it is expected, lost as
 *   `never sent`, and `no-loss` fails (exit 1);
 * - a node that leaks room broadcasts to non-members (calibration fault `leak-room`) fails
 *   `no-leak` (exit 1), on the socket.io hook and on the ws hub;
 * - a node paused with SIGSTOP for 2 s in the measured phase: its receivers have the highest p99
 *   in the per-node table, of the run and of the `pause` window.
 * Assertions are on counts, states and orders, never on timings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from './support/run-scenario.js';
import { isAlive, pidsMatching } from './support/processes.js';

/** 10 rooms × 29 members, one publisher per room, 5 msg/s. */
const SMALL = { connections: '300', rooms: '10', rate: '5', warmup: '1', duration: '3', drain: '1' };
const MEMBERS = 29;

const smallRun = (extra: Record<string, unknown>) => runScenario('cross-node-broadcast', { ...SMALL, ...extra });

const killLeftovers = (pids: number[]) => {
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
};

describe('a publisher stalled past the end of the run', () => {
  let res: Awaited<ReturnType<typeof smallRun>>;
  beforeAll(async () => {
    // The stall begins 1 s into the 3 s measured phase and would last 12 s: the run (3 s + 1 s of
    // drain + the 5 s a late publisher may still catch up) ends first.
    res = await smallRun({ publisherStallMs: '12000', publisherStallAt: '1' });
  }, 120_000);
  afterAll(() => killLeftovers(res?.pids ?? []));

  it('expects every scheduled message; what never left the publisher is lost as never sent, and no-loss fails (exit 1)', () => {
    const r = res.outcome.report;
    expect(r.error, res.stderr).toBeUndefined();
    const never = r.counters.messages_never_sent;
    expect(never).toBeGreaterThan(0);
    expect(r.counters.messages_published + never).toBe(r.counters.messages_scheduled);
    // Expected from the schedule: every scheduled message × the members of its room.
    expect(r.accounting.expected).toBe(r.counters.messages_scheduled * MEMBERS);
    expect(r.accounting.losses?.neverSent).toBe(never * MEMBERS);
    expect(r.accounting.lost).toBe(never * MEMBERS);
    expect(r.accounting.losses?.lostConnected).toBe(0);
    expect(r.targets.find((t) => t.id === 'no-loss')).toMatchObject({ status: 'fail', actual: never * MEMBERS });
    expect(r.verdict).toBe('fail');
    expect(res.outcome.exitCode).toBe(1);
    // Per node, the never-sent deliveries add up on both sides.
    for (const side of [r.perNode!.receiving, r.perNode!.publishing]) expect(side.reduce((a, x) => a + x.neverSent, 0)).toBe(never * MEMBERS);
  });

  it('left no process behind', async () => {
    expect(res.pids.filter(isAlive)).toEqual([]);
    expect(await pidsMatching(res.out)).toEqual([]);
  });
});

describe.each(['socketio', 'ws'] as const)('a %s node that leaks room broadcasts to non-members (calibration fault leak-room)', (server) => {
  let res: Awaited<ReturnType<typeof smallRun>>;
  beforeAll(async () => {
    res = await smallRun({ server, calibrationFault: ['leak-room=4:room-2'] });
  }, 120_000);
  afterAll(() => killLeftovers(res?.pids ?? []));

  it('fails no-leak (exit 1), and the leak is neither a delivery nor a loss', () => {
    const r = res.outcome.report;
    expect(r.error, res.stderr).toBeUndefined();
    expect(r.counters.unexpected_arrivals).toBeGreaterThan(0);
    expect(r.targets.find((t) => t.id === 'no-leak')).toMatchObject({ status: 'fail', actual: r.counters.unexpected_arrivals });
    expect(r.accounting.lost).toBe(0);
    expect(r.accounting.duplicated).toBe(0);
    expect(r.accounting.received).toBe(r.accounting.expected);
    expect(r.verdict).toBe('fail');
    expect(res.outcome.exitCode).toBe(1);
  });

  it('left no process behind', async () => {
    expect(res.pids.filter(isAlive)).toEqual([]);
    expect(await pidsMatching(res.out)).toEqual([]);
  });
});

describe('a node paused (SIGSTOP) for 2 s during the measured phase', () => {
  // Two rooms: their publishers sit on node-1 and node-2 (load/room-plan.ts deals publishers over
  // the nodes in order), so pausing node-3 delays only what node-3's receivers get. (Pausing a node
  // with publishers delays their messages at every node as well, and the p99s of all nodes then
  // end up close to the pause length.)
  let res: Awaited<ReturnType<typeof smallRun>>;
  beforeAll(async () => {
    res = await smallRun({ rooms: '2', duration: '6', drain: '2', pauseNode: 'node-3', pauseAt: '2', pauseMs: '2000' });
  }, 120_000);
  afterAll(() => killLeftovers(res?.pids ?? []));

  it('paused and resumed it through the chaos layer', () => {
    const r = res.outcome.report;
    expect(r.error, res.stderr).toBeUndefined();
    const acts = r.events.filter((e) => e.type === 'pause-node' || e.type === 'resume-node');
    expect(acts.map((e) => [e.type, e.target, e.outcome])).toEqual([
      ['pause-node', 'node-3', 'ok'],
      ['resume-node', 'node-3', 'ok'],
    ]);
    expect(Object.keys(r.windows ?? {})).toContain('pause');
  });

  it("shows that node's receivers with the highest p99 in the per-node table, of the run and of the pause window", () => {
    const r = res.outcome.report;
    const worst = (rows: Array<{ node: string; latency_ms: { p99: number; count: number } }>) =>
      rows.filter((x) => x.latency_ms.count > 0).reduce((a, b) => (b.latency_ms.p99 > a.latency_ms.p99 ? b : a)).node;
    expect(r.perNode!.receiving.map((x) => x.node)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(r.perNode!.publishing.map((x) => x.node)).toEqual(['node-1', 'node-2']);
    expect(worst(r.perNode!.receiving)).toBe('node-3');
    expect(worst(r.windows!.pause.perNode!.receiving)).toBe('node-3');
  });

  it('left no process behind', async () => {
    expect(res.pids.filter(isAlive)).toEqual([]);
    expect(await pidsMatching(res.out)).toEqual([]);
  });
});
