/**
 * One behaviour suite for every reference-server variant — socket.io + redis adapter, ws + Redis
 * pub/sub, Bun + Redis pub/sub — against real processes: per variant one redis-server and nodes
 * spawned from dist/ (build first: `npx tsc -p .`), through the factory in
 * support/reference-variants.ts. The variants speak different wire protocols (Socket.IO; JSON
 * frames) with the same application meaning, so every assertion is on that meaning.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { mintToken } from '../../reference-server/token.js';
import { WsClient } from '../../load/ws-client.js';
import {
  BUN_MAIN,
  NODE_MAIN,
  SECRET,
  VARIANTS,
  closeClients,
  createCluster,
  spawnProgram,
  spawnVariant,
  stopAll,
  waitFor,
  type TestCluster,
  type Variant,
} from './support/reference-variants.js';
import { bunBinary } from '../../common/binaries.js';
import { startRedis } from './support/redis.js';

afterAll(async () => {
  await stopAll();
});

/** Version keys each variant's listening line must carry, and the adapter it names. */
const EXPECT: Record<Variant, { versions: Record<string, RegExp>; adapter: string }> = {
  socketio: { versions: { 'socket.io': /^4\./, '@socket.io/redis-adapter': /^8\./, ioredis: /^5\./ }, adapter: '@socket.io/redis-adapter' },
  ws: { versions: { ws: /^8\./, ioredis: /^5\./ }, adapter: 'custom ioredis pub/sub' },
  bun: { versions: { bun: /^1\./, ioredis: /^5\./ }, adapter: 'Bun server.publish + ioredis pub/sub' },
};

type Msg = { room: string; payload: unknown };

describe.each(VARIANTS)('reference server: %s', (variant) => {
  let c: TestCluster;
  let cleanup: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    [c, cleanup] = await createCluster(variant);
  }, 30_000);

  afterEach(() => {
    closeClients();
  });

  afterAll(async () => {
    await cleanup();
  });

  it('prints the listening line with the real port, the variant, its adapter and versions', () => {
    for (const [node, id] of [[c.node1, 'node-1'], [c.node2, 'node-2']] as const) {
      expect(node.listening).toMatchObject({ event: 'listening', nodeId: id, pid: node.child.pid, server: variant, adapter: EXPECT[variant].adapter });
      expect(node.listening.port).toBeGreaterThan(0);
      for (const [k, re] of Object.entries(EXPECT[variant].versions)) expect(node.listening.versions[k], k).toMatch(re);
      if (variant !== 'bun') expect(node.listening.versions.node).toBe(process.version);
    }
  });

  it('1. refuses connections without a valid token', async () => {
    const cases = [
      undefined,
      await mintToken('not-the-secret', { sub: 'u', rooms: ['*'] }),
      await mintToken(SECRET, { sub: 'u', rooms: ['*'], audience: 'someone-else' }),
      'not.a.jwt',
    ];
    for (const token of cases) {
      const r = await c.refused(c.node1.url, token);
      expect(r.unauthorized, r.detail).toBe(true);
    }
    if (variant === 'socketio') expect((await c.refused(c.node2.url, undefined)).detail).toBe('unauthorized: no token');
  });

  it('2. welcomes each client with the node id and echoes ping', async () => {
    const a = await c.connect(c.node1.url, ['*']);
    const b = await c.connect(c.node2.url, ['*']);
    expect(a.welcome.nodeId).toBe('node-1');
    expect(b.welcome.nodeId).toBe('node-2');
    expect(typeof a.welcome.sid).toBe('string');
    expect(a.welcome.sid).not.toBe(b.welcome.sid);
    expect(await a.ack('ping', { t: 12345 })).toEqual({ nodeId: 'node-1', t: 12345 });
    expect(await b.ack('ping', {})).toEqual({ nodeId: 'node-2' });
  });

  it('3. join acks with the local member count; ungranted rooms are forbidden', async () => {
    const a = await c.connect(c.node1.url, ['room-a']);
    const b = await c.connect(c.node1.url, ['room-a']);
    expect(await a.ack('join', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1', members: 1 });
    expect(await b.ack('join', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1', members: 2 });
    // joining again is idempotent
    expect(await b.ack('join', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1', members: 2 });
    expect(await a.ack('join', { room: 'room-b' })).toEqual({ ok: false, error: 'forbidden' });
    expect(await a.ack('join', { nope: 1 })).toEqual({ ok: false, error: 'bad_request' });
    expect(await a.ack('leave', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1' });
    expect(await a.ack('join', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1', members: 2 });
    // without an ack request: must not crash the server
    a.emit('join', { room: 'room-a' });
    a.emit('publish', { room: 'room-a', payload: 1 });
    a.emit('ping', { t: 1 });
    expect(await a.ack('ping', { t: 2 })).toEqual({ nodeId: 'node-1', t: 2 });
  });

  it('4. publish fans out across nodes through redis, exactly once, in order and unchanged', async () => {
    const m1 = await c.connect(c.node1.url, ['room-a'], 'member-1');
    const m2 = await c.connect(c.node2.url, ['room-a'], 'member-2');
    const pub = await c.connect(c.node2.url, ['room-a'], 'publisher');
    expect(m1.welcome.nodeId).toBe('node-1');
    expect(m2.welcome.nodeId).toBe('node-2');
    expect((await m1.ack<{ ok: boolean }>('join', { room: 'room-a' })).ok).toBe(true);
    expect((await m2.ack<{ ok: boolean }>('join', { room: 'room-a' })).ok).toBe(true);

    const got1: Msg[] = [];
    const got2: Msg[] = [];
    const gotPub: Msg[] = [];
    m1.on('msg', (m) => got1.push(m as Msg));
    m2.on('msg', (m) => got2.push(m as Msg));
    pub.on('msg', (m) => gotPub.push(m as Msg));

    const sent: unknown[] = [];
    for (let seq = 0; seq < 20; seq++) {
      const payload = { pub: 'publisher', seq, t: 1_700_000_000_000 + seq, n: { nested: [seq, 'x', null, true], s: 'é✓\n"' } };
      sent.push(payload);
      expect(await pub.ack('publish', { room: 'room-a', payload })).toEqual({ ok: true });
    }
    // An end marker: both streams are ordered, so once it arrives everything before it has too.
    expect(await pub.ack('publish', { room: 'room-a', payload: 'end' })).toEqual({ ok: true });
    const ended = (l: Msg[]) => l.length > 0 && l[l.length - 1].payload === 'end';
    await waitFor(() => ended(got1) && ended(got2), 'end marker on both members');
    // a ping round trip on each member: anything still in flight would have arrived by now
    await m1.ack('ping', {});
    await m2.ack('ping', {});

    for (const got of [got1, got2]) {
      const data = got.slice(0, -1);
      expect(data).toHaveLength(20);
      expect(data.map((m) => m.room)).toEqual(Array(20).fill('room-a'));
      expect(data.map((m) => m.payload)).toEqual(sent);
    }
    expect(gotPub).toHaveLength(0); // the publisher is not a member of the room
  });

  it('4b. the publisher receives its own message when it is a member; ungranted publish is forbidden', async () => {
    const a = await c.connect(c.node1.url, ['*']);
    const b = await c.connect(c.node2.url, ['*']);
    await a.ack('join', { room: 'self' });
    await b.ack('join', { room: 'self' });
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    a.on('msg', (m) => gotA.push((m as Msg).payload));
    b.on('msg', (m) => gotB.push((m as Msg).payload));
    expect(await a.ack('publish', { room: 'self', payload: { seq: 1 } })).toEqual({ ok: true });
    await waitFor(() => gotA.length === 1 && gotB.length === 1, 'self delivery');
    await a.ack('ping', {});
    await b.ack('ping', {});
    expect(gotA).toEqual([{ seq: 1 }]);
    expect(gotB).toEqual([{ seq: 1 }]);
    const other = await c.connect(c.node1.url, ['room-a']);
    expect(await other.ack('publish', { room: 'self', payload: 1 })).toEqual({ ok: false, error: 'forbidden' });
  });

  it('5. rate limit: the 6th publish within the window is rate_limited; ping is not limited', async () => {
    const a = await c.connect(c.limited.url, ['*']);
    const results: unknown[] = [];
    for (let i = 0; i < 6; i++) results.push(await a.ack('publish', { room: 'r', payload: i }));
    expect(results.slice(0, 5)).toEqual(Array(5).fill({ ok: true }));
    expect(results[5]).toEqual({ ok: false, error: 'rate_limited' });
    for (let i = 0; i < 10; i++) expect(await a.ack('ping', { t: i })).toEqual({ nodeId: 'node-limited', t: i });
  });

  it('5b. size limit: a message over --max-payload closes the connection; smaller ones pass', async () => {
    const a = await c.connect(c.limited.url, ['*']);
    expect(await a.ack('publish', { room: 'r', payload: 'x'.repeat(2000) })).toEqual({ ok: true });
    a.emit('publish', { room: 'r', payload: 'x'.repeat(8000) });
    const closed = await a.closed;
    // ws and Bun close with 1009 ("message too big"); socket.io drops the transport.
    if (variant === 'socketio') expect(closed.reason).toMatch(/transport (close|error)/);
    else expect(closed.code).toBe(1009);
    // the node itself is fine
    const b = await c.connect(c.limited.url, ['*']);
    expect(await b.ack('ping', { t: 1 })).toEqual({ nodeId: 'node-limited', t: 1 });
  });

  it('6. room capacity: the third join of a 2-member room is room_full', async () => {
    const a = await c.connect(c.limited.url, ['*']);
    const b = await c.connect(c.limited.url, ['*']);
    const d = await c.connect(c.limited.url, ['*']);
    expect(await a.ack('join', { room: 'small' })).toEqual({ ok: true, nodeId: 'node-limited', members: 1 });
    expect(await b.ack('join', { room: 'small' })).toEqual({ ok: true, nodeId: 'node-limited', members: 2 });
    expect(await d.ack('join', { room: 'small' })).toEqual({ ok: false, error: 'room_full' });
    await a.ack('leave', { room: 'small' });
    expect(await d.ack('join', { room: 'small' })).toEqual({ ok: true, nodeId: 'node-limited', members: 2 });
  });

  it('7. /health and /metrics (same metric names on every variant)', async () => {
    const a = await c.connect(c.node1.url, ['*']);
    await a.ack('join', { room: 'metrics-room' });

    const health = await fetch(`${c.node1.url}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', nodeId: 'node-1', redis: 'ready' });
    expect(body.connections).toBeGreaterThanOrEqual(1);

    const metrics = await fetch(`${c.node1.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/wsb_connections\{node_id="node-1"\} [1-9]/);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toMatch(/wsb_rooms\{node_id="node-1"\} [1-9]/);
    expect(text).toMatch(/wsb_messages_in_total\{event="join",node_id="node-1"\} [1-9]/);
    expect(text).toMatch(/wsb_rejected_total\{reason="unauthorized",node_id="node-1"\} [1-9]/);
    expect(text).toContain('wsb_publish_total');

    expect((await fetch(`${c.node1.url}/nope`)).status).toBe(404);
  });

  it('8. SIGTERM: local clients get server_shutdown, then the connection closes and the process exits 0', async () => {
    const doomed = await c.startNode('node-doomed');
    const a = await c.connect(doomed.url, ['*']);
    const other = await c.connect(c.node1.url, ['*']); // on another node: must not be told
    const events: string[] = [];
    let notice: unknown;
    a.on('server_shutdown', (d) => {
      notice = d;
      events.push('server_shutdown');
    });
    void a.closed.then(() => events.push('closed'));
    let otherTold = 0;
    other.on('server_shutdown', () => otherTold++);

    doomed.child.kill('SIGTERM');
    const exit = await doomed.exited;
    const closed = await a.closed;

    expect(notice).toEqual({ nodeId: 'node-doomed', reconnectDelay: 5000 });
    expect(events).toEqual(['server_shutdown', 'closed']);
    if (variant !== 'socketio') expect(closed.code).toBe(1001);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await other.ack('ping', {})).toEqual({ nodeId: 'node-1' });
    expect(otherTold).toBe(0);
    await doomed.stop();
  });

  it('9. bad arguments exit with code 2 and print nothing on stdout', async () => {
    const badPort = spawnVariant(variant, ['--port', 'abc', '--jwt-secret', SECRET]);
    const unknown = spawnVariant(variant, ['--jwt-secret', SECRET, '--no-such-flag']);
    const env = { ...process.env };
    delete env.WSB_JWT_SECRET;
    const noSecret = spawnVariant(variant, ['--port', '0'], env);
    expect((await badPort.exited).code).toBe(2);
    expect(badPort.stderr()).toMatch(/--port/);
    expect(badPort.stdoutLines).toEqual([]);
    expect((await unknown.exited).code).toBe(2);
    expect((await noSecret.exited).code).toBe(2);
    expect(noSecret.stderr()).toMatch(/secret/i);
    await Promise.all([badPort.stop(), unknown.stop(), noSecret.stop()]);
  });
});

/** Redis names of each JSON-protocol variant's bus (seed 002's layout for ws, 004's for Bun). */
const LAYOUT: Record<'ws' | 'bun', { room: (r: string) => string; instanceKey: (id: string) => string; ttlSec: number }> = {
  ws: { room: (r) => `wsb:rooms:${r}`, instanceKey: (id) => `wsb:instance:${id}`, ttlSec: 120 },
  bun: { room: (r) => `cluster:room:${r}`, instanceKey: (id) => `nodes:${id}`, ttlSec: 30 },
};

describe.each(['ws', 'bun'] as const)('reference server: %s — JSON protocol and Redis bus (seeds 002/004)', (variant) => {
  let c: TestCluster;
  let cleanup: () => Promise<void> = async () => undefined;
  let redis: Redis;

  beforeAll(async () => {
    [c, cleanup] = await createCluster(variant);
    redis = new Redis(c.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined); // the outage test stops this Redis on purpose
    await redis.connect();
  }, 30_000);

  afterEach(() => {
    closeClients();
  });

  afterAll(async () => {
    redis?.disconnect();
    await cleanup();
  });

  const subscribers = async (channel: string) => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]);

  it('subscribes a room channel only on nodes with local members, and drops it when the last leaves', async () => {
    const ch = LAYOUT[variant].room('bus-room');
    expect(await subscribers(ch)).toBe(0);
    const a = await c.connect(c.node1.url, ['*']);
    const a2 = await c.connect(c.node1.url, ['*']);
    const b = await c.connect(c.node2.url, ['*']);
    await a.ack('join', { room: 'bus-room' });
    await a2.ack('join', { room: 'bus-room' });
    expect(await subscribers(ch)).toBe(1); // node-1 once, however many local members
    await b.ack('join', { room: 'bus-room' });
    expect(await subscribers(ch)).toBe(2);
    await a.ack('leave', { room: 'bus-room' });
    expect(await subscribers(ch)).toBe(2);
    await a2.ack('leave', { room: 'bus-room' });
    // node-1's UNSUBSCRIBE goes out with the leave, without waiting for Redis to confirm it
    await expect.poll(() => subscribers(ch)).toBe(1);
    b.close();
    await expect.poll(() => subscribers(ch)).toBe(0);
  });

  it('registers every node in the instance registry with a TTL, and /stats counts them', async () => {
    for (const id of ['node-1', 'node-2', 'node-limited']) {
      const ttl = await redis.ttl(LAYOUT[variant].instanceKey(id));
      expect(ttl, id).toBeGreaterThan(0);
      expect(ttl, id).toBeLessThanOrEqual(LAYOUT[variant].ttlSec);
    }
    const stats = (await (await fetch(`${c.node1.url}/stats`)).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({ nodeId: 'node-1', redis: 'ready' });
    expect(stats.instances).toEqual(expect.arrayContaining(['node-1', 'node-2', 'node-limited']));
    expect(stats.totalInstances).toBe((stats.instances as string[]).length);
    // nodes that start together learn of each other from their announcements
    await expect.poll(async () => ((await (await fetch(`${c.node1.url}/stats`)).json()) as { peers: string[] }).peers).toEqual(
      expect.arrayContaining(['node-2', 'node-limited']),
    );
  });

  it('deletes its registry key on graceful shutdown', async () => {
    const doomed = await c.startNode('node-gone');
    const key = LAYOUT[variant].instanceKey('node-gone');
    expect(await redis.exists(key)).toBe(1);
    doomed.child.kill('SIGTERM');
    expect((await doomed.exited).code).toBe(0);
    expect(await redis.exists(key)).toBe(0);
  });

  it('routes direct messages to a user on any node (user channels)', async () => {
    const alice1 = await c.connect(c.node2.url, ['*'], 'alice');
    const alice2 = await c.connect(c.node1.url, ['*'], 'alice');
    const bob = await c.connect(c.node1.url, ['*'], 'bob');
    const got: unknown[][] = [[], [], []];
    alice1.on('dm', (d) => got[0].push(d));
    alice2.on('dm', (d) => got[1].push(d));
    bob.on('dm', (d) => got[2].push(d));
    expect(await bob.ack('direct', { to: 'alice', payload: { hi: 1 } })).toEqual({ ok: true });
    await waitFor(() => got[0].length === 1 && got[1].length === 1, 'dm on both of alice\'s connections');
    await bob.ack('ping', {});
    expect(got).toEqual([[{ from: 'bob', payload: { hi: 1 } }], [{ from: 'bob', payload: { hi: 1 } }], []]);
    expect(await bob.ack('direct', { payload: 1 })).toEqual({ ok: false, error: 'bad_request' });
  });

  it('global broadcast reaches every connection on every node; only all-rooms tokens may send it', async () => {
    const admin = await c.connect(c.node1.url, ['*'], 'admin');
    const x = await c.connect(c.node2.url, ['room-x'], 'x');
    const y = await c.connect(c.node1.url, ['room-y'], 'y');
    const got: unknown[][] = [[], [], []];
    admin.on('broadcast', (d) => got[0].push(d));
    x.on('broadcast', (d) => got[1].push(d));
    y.on('broadcast', (d) => got[2].push(d));
    expect(await x.ack('broadcast', { payload: 'no' })).toEqual({ ok: false, error: 'forbidden' });
    expect(await admin.ack('broadcast', { payload: 'hello' })).toEqual({ ok: true });
    await waitFor(() => got.every((g) => g.length === 1), 'broadcast everywhere');
    await x.ack('ping', {});
    expect(got).toEqual(Array(3).fill([{ from: 'admin', payload: 'hello' }]));
  });

  it('accepts the token in an Authorization header, refuses other paths, answers bad frames', async () => {
    const token = await mintToken(SECRET, { sub: 'h', rooms: ['*'] });
    const viaHeader = await fetch(`${c.node1.url}/ws`, { headers: { authorization: `Bearer ${token}` } });
    expect(viaHeader.status).toBe(426); // a plain GET: the token is fine, the upgrade is missing
    const wrongPath = await WsClient.connect({ url: c.node1.url, token, path: '/elsewhere' }).then(
      () => 'connected',
      (e: { cause?: string; status?: number }) => `${e.cause} ${e.status}`,
    );
    expect(wrongPath).toBe('http_status 404');

    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(c.node1.url.replace('http', 'ws') + '/ws', { headers: { authorization: `Bearer ${token}` } });
    const frames: Array<{ type: string; id?: number; data?: unknown }> = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as (typeof frames)[number]));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'nope', id: 9, data: {} }));
    ws.send(JSON.stringify({ type: 'ping', id: 10, data: { t: 3 } }));
    await waitFor(() => frames.length >= 4, 'replies');
    ws.close();
    expect(frames.map((f) => f.type)).toEqual(['welcome', 'error', 'ack', 'ack']);
    expect(frames[1].data).toEqual({ error: 'bad_request' });
    expect(frames[2]).toEqual({ type: 'ack', id: 9, data: { ok: false, error: 'unknown_event' } });
    expect(frames[3]).toEqual({ type: 'ack', id: 10, data: { nodeId: 'node-1', t: 3 } });
  });

  // Last in this block: it stops the cluster's Redis and brings it back on the same port.
  it('keeps local delivery during a Redis outage and restores every wanted channel afterwards (seed 002)', async () => {
    const a = await c.connect(c.node1.url, ['*'], 'a');
    const b = await c.connect(c.node2.url, ['*'], 'b');
    await a.ack('join', { room: 'outage' });
    await b.ack('join', { room: 'outage' });
    const gotA: unknown[] = [];
    a.on('msg', (m) => gotA.push((m as Msg).payload));

    const port = c.redis.port;
    await c.redis.stop();
    let back: Awaited<ReturnType<typeof startRedis>> | undefined;
    try {
      await expect.poll(async () => (await fetch(`${c.node1.url}/health`)).status).toBe(503);
      // During the outage: local members still get room messages; joins are acked (local only).
      expect(await a.ack('publish', { room: 'outage', payload: 'during' })).toEqual({ ok: true });
      await waitFor(() => gotA.includes('during'), 'local delivery during the outage');
      const late = await c.connect(c.node1.url, ['*'], 'late');
      expect(await late.ack('join', { room: 'joined-during-outage' })).toEqual({ ok: true, nodeId: 'node-1', members: 1 });
      const gotLate: unknown[] = [];
      late.on('msg', (m) => gotLate.push((m as Msg).payload));

      back = await startRedis({ port });
      for (const n of [c.node1, c.node2]) await expect.poll(async () => (await fetch(`${n.url}/health`)).status, { timeout: 10_000 }).toBe(200);
      // Cross-node delivery resumes for the room joined before the outage and the one joined during it.
      const pubOnNode2 = await c.connect(c.node2.url, ['*'], 'p');
      await expect
        .poll(async () => {
          await pubOnNode2.ack('publish', { room: 'outage', payload: 'after' });
          await pubOnNode2.ack('publish', { room: 'joined-during-outage', payload: 'after' });
          return gotA.includes('after') && gotLate.includes('after');
        }, { timeout: 10_000 })
        .toBe(true);
    } finally {
      await back?.stop();
    }
  });
});

describe('entry points', () => {
  it('main.js refuses --server bun and bun-main.js refuses other variants (exit 2)', async () => {
    const nodeBun = spawnProgram(process.execPath, [NODE_MAIN, '--server', 'bun', '--jwt-secret', SECRET]);
    const bunWs = spawnProgram(bunBinary(), [BUN_MAIN, '--server', 'ws', '--jwt-secret', SECRET]);
    const nodeBad = spawnProgram(process.execPath, [NODE_MAIN, '--server', 'nope', '--jwt-secret', SECRET]);
    expect((await nodeBun.exited).code).toBe(2);
    expect(nodeBun.stderr()).toMatch(/bun-main\.js/);
    expect((await bunWs.exited).code).toBe(2);
    expect(bunWs.stderr()).toMatch(/main\.js --server ws/);
    expect((await nodeBad.exited).code).toBe(2);
    expect(nodeBad.stderr()).toMatch(/--server must be one of socketio, ws, bun/);
  });
});
