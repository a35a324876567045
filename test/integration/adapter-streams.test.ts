/**
 * The socket.io reference server with `--adapter redis-streams` (@socket.io/redis-streams-adapter
 * and connection state recovery, seed 001 §4), against real processes (build first: `npx tsc -p .`):
 *
 * - the nodes themselves, with the lean client: a session the server closed (graceful stop) is
 *   resumed on ANOTHER node — rooms and missed messages included; a session whose node was
 *   SIGKILLed is not (the node stores a session when it sees the connection drop, and a killed
 *   node sees nothing; cf. socketio/socket.io-redis-streams-adapter#27);
 * - `node-kill` with the adapter: every client is back and rejoined, and no session is recovered;
 * - `rolling-restart` (graceful stops) with each adapter: with redis-streams every reconnection
 *   resumes its session and the clients lose fewer messages than with pub/sub.
 *
 * Counts, states and orderings only: never timings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_BROADCAST, runScenario } from './support/run-scenario.js';
import { SioClient, type SioSession } from '../../load/sio-client.js';
import { mintToken } from '../../reference-server/token.js';
import { isAlive } from './support/processes.js';
import { startRedis, type RedisHandle } from './support/redis.js';
import { SECRET, startRefNode, stopAll, waitFor, type RefNode } from './support/reference-variants.js';

const STREAMS = ['--adapter', 'redis-streams', '--shutdown-grace-ms', '0'];

describe('reference server --adapter redis-streams: sessions across nodes (real processes)', () => {
  let redis: RedisHandle;
  let nodes: RefNode[] = [];
  const open: SioClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    nodes = await Promise.all(['node-1', 'node-2', 'node-3'].map((id) => startRefNode('socketio', redis.url, id, STREAMS)));
  }, 30_000);

  afterAll(async () => {
    for (const c of open) c.close();
    await stopAll();
    await redis?.stop();
  });

  /** A lean client that records every event; `welcome` tells the node. */
  async function client(url: string, recover?: true | SioSession) {
    const token = await mintToken(SECRET, { sub: 'u', rooms: ['*'] });
    const c = await SioClient.connect({ url, token, ...(recover ? { recover } : {}) });
    open.push(c);
    const got: Array<[string, unknown]> = [];
    let closed = false;
    c.onEvent = (event, data) => got.push([event, data]);
    c.onClose = () => (closed = true);
    const msgs = () => got.filter(([e]) => e === 'msg').map(([, d]) => (d as { payload: { seq: number } }).payload.seq);
    await waitFor(() => got.some(([e]) => e === 'welcome'), 'welcome');
    return { c, got, msgs, closed: () => closed };
  }
  const publish = async (p: SioClient, seq: number) => expect(await p.emitWithAck('publish', { room: 'r', payload: { seq } })).toEqual({ ok: true });

  it('names the adapter and its version in the listening line', () => {
    for (const n of nodes) {
      expect(n.listening.adapter).toBe('@socket.io/redis-streams-adapter');
      expect(n.listening.versions['@socket.io/redis-streams-adapter']).toMatch(/^0\./);
    }
  });

  it('a session its node closed (graceful stop) is resumed on another node: same sid, room kept, missed messages replayed', async () => {
    const pub = await client(nodes[1].url);
    const m = await client(nodes[0].url, true);
    expect(m.got.find(([e]) => e === 'welcome')![1]).toMatchObject({ nodeId: 'node-1' });
    expect(await m.c.emitWithAck('join', { room: 'r' })).toMatchObject({ ok: true, nodeId: 'node-1' });
    await publish(pub.c, 1);
    await waitFor(() => m.msgs().length === 1, 'message 1');
    const session = m.c.session()!;
    expect(session.pid.length).toBeGreaterThan(0);

    nodes[0].child.kill('SIGTERM');
    await waitFor(() => m.closed(), 'the graceful stop to close the connection');
    expect(await nodes[0].exited).toEqual({ code: 0, signal: null });
    await publish(pub.c, 2);
    await publish(pub.c, 3);

    const back = await client(nodes[1].url, session);
    expect(back.c.recovered).toBe(true);
    expect(back.c.replayed).toBe(2);
    expect(back.c.sid).toBe(m.c.sid);
    // The replay first, in order; then node-2's welcome, for the same socket id.
    expect(back.got[0]).toEqual(['msg', { room: 'r', payload: { seq: 2 } }]);
    expect(back.got[1]).toEqual(['msg', { room: 'r', payload: { seq: 3 } }]);
    expect(back.got[2]).toEqual(['welcome', { nodeId: 'node-2', sid: m.c.sid }]);
    // Still in room r without joining again.
    await publish(pub.c, 4);
    await waitFor(() => back.msgs().length === 3, 'message 4');
    expect(back.msgs()).toEqual([2, 3, 4]);
  });

  it('a session whose node was SIGKILLed is not resumed: a new session, nothing replayed, out of its room until it joins', async () => {
    const pub = await client(nodes[1].url);
    const control = await client(nodes[1].url);
    await control.c.emitWithAck('join', { room: 'r' });
    const m = await client(nodes[2].url, true);
    await m.c.emitWithAck('join', { room: 'r' });
    await publish(pub.c, 10);
    await waitFor(() => m.msgs().includes(10), 'message 10');
    const session = m.c.session()!;

    nodes[2].child.kill('SIGKILL');
    await waitFor(() => m.closed(), 'the kill to close the connection');
    await publish(pub.c, 11);

    const back = await client(nodes[1].url, session);
    expect(back.c.recovered).toBe(false);
    expect(back.c.replayed).toBe(0);
    expect(back.c.sid).not.toBe(m.c.sid);
    expect(back.c.session()!.pid).not.toBe(session.pid);
    // Message 12 goes to room r's members on node-2 in order: once the member there has it, the
    // new session would have had it too, were it in the room.
    await publish(pub.c, 12);
    await waitFor(() => control.msgs().includes(12), 'message 12 at the control member');
    expect(await back.c.emitWithAck('join', { room: 'r' })).toMatchObject({ ok: true, nodeId: 'node-2' });
    await publish(pub.c, 13);
    await waitFor(() => back.msgs().includes(13), 'message 13 after the rejoin');
    expect(back.msgs()).toEqual([13]);
  });
});


describe('chaos scenarios with --adapter redis-streams (real processes, real signals)', () => {
  it('node-kill: every client is back and rejoined; no session is recovered (a SIGKILLed node stored none)', async () => {
    const { outcome, stderr, pids } = await runScenario('node-kill', { ...SMALL_BROADCAST, adapter: 'redis-streams', duration: '8', killAt: '2', node: 'node-2' });
    const r = outcome.report;
    expect(r.error, stderr).toBeUndefined();
    expect(r.topology.adapter).toBe('@socket.io/redis-streams-adapter');
    expect(r.topology.versions['@socket.io/redis-streams-adapter']).toMatch(/^0\./);
    const rc = r.reconnection!;
    expect(rc.disconnections).toBe(r.connectionsPerNode['node-2']);
    expect(rc.reconnected).toBe(rc.disconnections);
    expect(rc.neverBack).toBe(0);
    expect(Object.keys(rc.faults[0].landedOn).sort()).toEqual(['node-1', 'node-3']);
    expect(r.timeline.at(-1)!.connections).toBe(150);
    // Exactly true after a SIGKILL: nothing to resume, nothing replayed; the clients joined their rooms again.
    expect(rc.recovered).toBe(0);
    expect(rc.messagesReplayed).toBe(0);
    expect(rc.faults[0].recovered).toBe(0);
    expect(r.metrics.replayed_delivery_latency_ms).toBeUndefined();
    const l = r.accounting.losses!;
    expect(l.lostConnected).toBe(0);
    expect(l.lostDisconnected + l.lostPublisherDown).toBe(r.accounting.lost);
    expect(r.windows!.after.accounting.lost).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('rolling-restart: with redis-streams every reconnection resumes its session, and the clients lose fewer messages than with pub/sub', async () => {
    const flags = { nodes: '2', duration: '10', firstAt: '1', settle: '0' };
    const pubsub = (await runScenario('rolling-restart', { ...SMALL_BROADCAST, ...flags, adapter: 'redis' })).outcome.report;
    const streams = (await runScenario('rolling-restart', { ...SMALL_BROADCAST, ...flags, adapter: 'redis-streams' })).outcome.report;
    for (const r of [pubsub, streams]) {
      expect(r.error).toBeUndefined();
      expect(r.reconnection!.neverBack).toBe(0);
      expect(r.reconnection!.reconnected).toBe(r.reconnection!.disconnections);
      expect(r.accounting.losses!.lostConnected).toBe(0);
    }
    expect(pubsub.topology.adapter).toBe('@socket.io/redis-adapter');
    expect(pubsub.reconnection!.recovered).toBe(0);
    expect(pubsub.reconnection!.messagesReplayed).toBe(0);
    // Each node stored its sessions when it closed them; every client resumed its own, wherever it landed.
    const rc = streams.reconnection!;
    expect(rc.recovered).toBe(rc.reconnected);
    for (const f of rc.faults) expect(f.recovered).toBe(f.affected);
    expect(rc.messagesReplayed).toBeGreaterThan(0);
    expect(streams.metrics.replayed_delivery_latency_ms.count).toBeGreaterThan(0);
    expect(streams.metrics.replayed_delivery_latency_ms.count).toBeLessThanOrEqual(rc.messagesReplayed!);
    // What pub/sub loses while the clients are away, the streams adapter replays.
    expect(pubsub.accounting.losses!.lostDisconnected).toBeGreaterThan(0);
    expect(streams.accounting.losses!.lostDisconnected).toBeLessThan(pubsub.accounting.losses!.lostDisconnected);
    expect(streams.accounting.lost).toBeLessThan(pubsub.accounting.lost);
  });
});
