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
    expect(kill!.endMs).toBeGreaterThanOrEqual(kill!.atMs);
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
    expect(r.windows!.before.accounting.lost).toBeLessThanOrEqual(r.accounting.lost);
    expect(r.windows!.after.accounting.lost).toBe(0);
    expect(r.targets.find((t) => t.id === 'no-loss-while-connected')!.status).toBe('pass');
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('redis-outage: same-node delivery goes on during the outage and cross-node delivery resumes after it', async () => {
    const { outcome, stderr } = await runScenario('redis-outage', { ...SMALL_BROADCAST, duration: '8', outageAt: '2', outage: '2' });
    const r = outcome.report;
    expect(r.error, stderr).toBeUndefined();
    const stop = r.events.find((e) => e.type === 'stop-redis');
    const start = r.events.find((e) => e.type === 'start-redis');
    expect(stop).toMatchObject({ target: 'redis', outcome: 'ok' });
    expect(start).toMatchObject({ target: 'redis', outcome: 'ok' });
    expect(start!.atMs).toBeGreaterThan(stop!.atMs);
    const w = r.windows!['redis-outage'];
    expect(w.sameNode.expected).toBeGreaterThan(0);
    expect(w.sameNode.lost).toBe(0);
    expect(r.counters.cross_node_resumed_after_ms).toBeGreaterThanOrEqual(0);
    expect(r.windows!.after.crossNode.received).toBeGreaterThan(0);
    // No client was disconnected: Redis is behind the nodes.
    expect(r.reconnection).toBeUndefined();
  });
});
