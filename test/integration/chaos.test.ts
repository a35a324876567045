import { describe, expect, it } from 'vitest';
import { SMALL_BROADCAST, runScenario } from './support/run-scenario.js';
import { isAlive } from './support/processes.js';


describe('chaos on the load timeline (real processes, real signals)', () => {
  it('node-kill: every client is back and rejoined, nobody connected lost anything, the killed node’s losses fall in disconnection windows', async () => {
    const { outcome, stderr, pids } = await runScenario('node-kill', { ...SMALL_BROADCAST, duration: '8', killAt: '2', node: 'node-2' });
    const r = outcome.report;
    expect(r.error, stderr).toBeUndefined();
    // The kill is on the timeline, with its target and a verified outcome.
    const kill = r.events.find((e) => e.type === 'kill-node');
    expect(kill).toMatchObject({ target: 'node-2', outcome: 'ok' });
    expect(kill!.detail).toMatch(/^observed: port \d+ refuses connections$/);
    // Exactly the clients that sat on node-2 were disconnected, and every one came back elsewhere.
    const rc = r.reconnection!;
    expect(rc.disconnections).toBe(r.connectionsPerNode['node-2']);
    expect(rc.neverBack).toBe(0);
    expect(rc.reconnected).toBe(rc.disconnections);
    expect(rc.faults[0].affected).toBe(r.connectionsPerNode['node-2']);
    expect(Object.keys(rc.faults[0].landedOn).sort()).toEqual(['node-1', 'node-3']);
    expect(r.timeline.at(-1)!.connections).toBe(150);
    // Survivors lost nothing; every lost delivery lies in a disconnection window.
    const l = r.accounting.losses!;
    expect(l.lostConnected).toBe(0);
    expect(l.lostDisconnected + l.lostPublisherDown + l.neverSent!).toBe(r.accounting.lost);
    expect(r.accounting.duplicated).toBe(0);
    expect(Object.keys(r.windows!)).toEqual(['before', 'kill', 'after']);
    // Before the kill only deliveries still in flight when it struck can be lost (intended within the
    // in-flight margin, to or from node-2): at most one margin's messages (rate 5/s × 0.5 s → 3) per
    // client node-2 held, and every one of them is a loss while disconnected, none while connected.
    expect(r.windows!.before.accounting.expected).toBeGreaterThan(0);
    expect(r.windows!.before.accounting.lost).toBeLessThanOrEqual(3 * r.connectionsPerNode['node-2'] * 5);
    expect(r.windows!.before.accounting.lost).toBeLessThanOrEqual(l.lostDisconnected + l.lostPublisherDown);
    expect(r.windows!.after.accounting.lost).toBe(0);
    expect(r.targets.find((t) => t.id === 'no-loss-while-connected')!.status).toBe('pass');
    // The kill and the restart were observed from outside (the port refused, then /health answered).
    expect(r.counters).toMatchObject({ chaos_actions_failed: 0, chaos_actions_unobserved: 0 });
    expect(r.targets.find((t) => t.id === 'chaos-applied')!.status).toBe('pass');
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('redis-outage: same-node delivery goes on during the outage, cross-node delivery resumes after it, nothing is lost outside it', async () => {
    const { outcome, stderr } = await runScenario('redis-outage', { ...SMALL_BROADCAST, duration: '6', outageAt: '1', outage: '1' });
    const r = outcome.report;
    expect(r.error, stderr).toBeUndefined();
    const stop = r.events.find((e) => e.type === 'stop-redis');
    const start = r.events.find((e) => e.type === 'start-redis');
    // Observed, not assumed: PING failed after the stop and answered after the start.
    expect(stop).toMatchObject({ target: 'redis', outcome: 'ok', detail: 'observed: PING fails' });
    expect(start).toMatchObject({ target: 'redis', outcome: 'ok', detail: 'observed: PING answers' });
    expect(start!.atMs).toBeGreaterThan(stop!.atMs);
    expect(Object.keys(r.windows!)).toEqual(['before', 'redis-outage', 'redis-settle', 'after']);
    const w = r.windows!['redis-outage'];
    expect(w.sameNode.expected).toBeGreaterThan(0);
    expect(w.sameNode.lost).toBe(0);
    // Measured from Redis being back, never clamped: present (it resumed) and within the target.
    expect(r.counters.cross_node_resumed_after_ms).not.toBeUndefined();
    expect(r.counters.cross_node_resumed_after_ms).toBeLessThanOrEqual(5000);
    expect(r.windows!.after.crossNode.received).toBeGreaterThan(0);
    // Outside the outage (before it, and 2 s after Redis is back) nothing is lost.
    expect(r.windows!.before.accounting.lost).toBe(0);
    expect(r.windows!.after.accounting.lost).toBe(0);
    expect(r.counters.lost_outside_outage).toBe(0);
    expect(r.counters.lost_in_outage).toBe(w.accounting.lost + r.windows!['redis-settle'].accounting.lost);
    expect(r.targets.map((t) => [t.id, t.status])).toEqual([
      ['same-node-during-redis-outage', 'pass'],
      ['cross-node-resumes', 'pass'],
      ['no-leak', 'pass'],
      ['no-loss-outside-redis-outage', 'pass'],
      ['chaos-applied', 'pass'],
    ]);
    expect(r.verdict).toBe('pass');
    // The outage's own losses are put against the adapter's promise, not called a cluster failure.
    expect(r.generator.notes.some((n) => n.startsWith('CLUSTER FAILURE'))).toBe(false);
    expect(r.generator.notes.some((n) => n.includes('Redis pub/sub is at-most-once'))).toBe(true);
    // No client was disconnected: Redis is behind the nodes.
    expect(r.reconnection).toBeUndefined();
  });

  it('redis-outage: a cluster that loses deliveries after Redis is back fails (calibration fault drop-every=3)', async () => {
    const { outcome, stderr } = await runScenario('redis-outage', { ...SMALL_BROADCAST, duration: '6', outageAt: '1', outage: '1', calibrationFault: ['drop-every=3'] });
    const r = outcome.report;
    expect(r.error, stderr).toBeUndefined();
    expect(r.windows!.after.accounting.lost).toBeGreaterThan(0);
    const t = r.targets.find((x) => x.id === 'no-loss-outside-redis-outage')!;
    expect(t.status).toBe('fail');
    expect(t.actual).toBe(r.windows!.before.accounting.lost + r.windows!.after.accounting.lost);
    expect(r.verdict).toBe('fail');
    expect(outcome.exitCode).toBe(1);
    expect(r.generator.notes.some((n) => /^CLUSTER FAILURE: \d+ deliveries were lost outside the Redis outage/.test(n))).toBe(true);
  });

  it('reconnection-storm --storms 2: both storms counted from the drop and from the LB\'s return, the target judged on the median storm', async () => {
    const { outcome, stderr, pids } = await runScenario('reconnection-storm', {
      ...SMALL_BROADCAST,
      connections: '300',
      rooms: '10',
      // Both storms are over ~7 s into the measured phase (each ~2 s until every client is back,
      // then the 1 s gap); publishing does not end before the chaos schedule does in any case.
      duration: '8',
      stormAt: '1',
      gap: '1',
      storms: '2',
      stormPolicy: 'full-jitter',
    });
    const r = outcome.report;
    expect(r.error, stderr).toBeUndefined();
    // Two storms, each a stop-lb and a start-lb on the timeline, both verified.
    expect(r.events.filter((e) => e.type === 'stop-lb').map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(r.events.filter((e) => e.type === 'start-lb').map((e) => e.outcome)).toEqual(['ok', 'ok']);
    const rc = r.reconnection!;
    expect(rc.faults.map((f) => f.fault)).toEqual(['storm-full-jitter-1', 'storm-full-jitter-2']);
    expect(rc.neverBack).toBe(0);
    for (const f of rc.faults) {
      // Every connection dropped, and every one came back.
      expect(f.affected).toBe(300);
      expect(f.backWithin100PercentMs).not.toBeNull();
      expect(f.lbAcceptedAfterMs).not.toBeNull();
      expect(f.backWithin99PercentFromReturnMs).not.toBeNull();
      expect(f.backWithin100PercentFromReturnMs).not.toBeNull();
      // Measured from two instants: the LB's return comes after the drop, so from-return never exceeds from-drop.
      expect(f.backWithin100PercentFromReturnMs!).toBeLessThanOrEqual(f.backWithin100PercentMs!);
      expect(f.backWithin99PercentFromReturnMs!).toBeLessThanOrEqual(f.backWithin99PercentMs!);
      expect(f.lbAcceptedAfterMs!).toBeLessThanOrEqual(f.backWithin100PercentMs!);
    }
    const drops = rc.faults.map((f) => f.backWithin100PercentMs!);
    const returns = rc.faults.map((f) => f.backWithin100PercentFromReturnMs!);
    expect(rc.storms).toEqual([
      {
        policy: 'full-jitter',
        storms: 2,
        fromDrop100PercentMs: { median: Math.max(...drops), min: Math.min(...drops), max: Math.max(...drops) },
        fromReturn100PercentMs: { median: Math.max(...returns), min: Math.min(...returns), max: Math.max(...returns) },
      },
    ]);
    // The target reads the median storm (of two: the upper middle one), from the drop.
    expect(r.counters.reconnect_all_back_ms).toBe(rc.storms![0].fromDrop100PercentMs.median);
    expect(r.counters.reconnect_all_back_from_return_ms).toBe(rc.storms![0].fromReturn100PercentMs.median);
    expect(r.targets.find((t) => t.id === 'reconnect-all')!.actual).toBe(r.counters.reconnect_all_back_ms);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
