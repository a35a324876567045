/**
 * Integration test of the reference Socket.IO server against real processes:
 * one redis-server, and reference nodes spawned from dist/ (build first: `npx tsc -p .`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { mintToken } from '../../reference-server/token.js';
import { startRedis, type RedisHandle } from './support/redis.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/reference-server/main.js');
const SECRET = 'reference-server-test-secret';
const ACK_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------------------------
// process helpers

interface Listening {
  event: 'listening';
  nodeId: string;
  port: number;
  pid: number;
  versions: Record<string, string>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface NodeProc {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stderr(): string;
  stop(): Promise<void>;
}

interface RefNode extends NodeProc {
  readonly listening: Listening;
  readonly url: string;
}

const procs = new Set<NodeProc>();

function spawnNode(args: string[], env: NodeJS.ProcessEnv = process.env): NodeProc & { stdoutLines: string[]; onLine: (cb: (l: string) => void) => void } {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  const stdoutLines: string[] = [];
  const listeners: Array<(l: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdoutLines.push(line);
    for (const l of listeners) l(line);
  });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stopping: Promise<void> | undefined;
  const proc = {
    child,
    exited,
    stdoutLines,
    onLine: (cb: (l: string) => void) => listeners.push(cb),
    stderr: () => err,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
        procs.delete(proc);
      })();
      return stopping;
    },
  };
  procs.add(proc);
  return proc;
}

async function startRefNode(redisUrl: string, nodeId: string, extra: string[] = []): Promise<RefNode> {
  const proc = spawnNode([
    '--port', '0', '--host', '127.0.0.1', '--redis', redisUrl, '--node-id', nodeId, '--jwt-secret', SECRET, ...extra,
  ]);
  const listening = await new Promise<Listening>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${nodeId}: no listening line in 20 s\n${proc.stderr()}`)), 20_000);
    proc.onLine((line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as Listening);
      } catch {
        reject(new Error(`${nodeId}: unexpected stdout line: ${line}`));
      }
    });
    void proc.exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`${nodeId} exited early (${e.code ?? e.signal})\n${proc.stderr()}`));
    });
  });
  return { ...proc, listening, url: `http://127.0.0.1:${listening.port}` };
}

// ---------------------------------------------------------------------------------------------
// client helpers

const clients = new Set<Socket>();

function makeClient(url: string, auth: Record<string, unknown>): Socket {
  const socket = ioClient(url, { transports: ['websocket'], auth, forceNew: true, reconnection: false });
  clients.add(socket);
  return socket;
}

interface Welcome {
  nodeId: string;
  sid: string;
}

async function connect(url: string, rooms: string[], sub = 'user'): Promise<{ socket: Socket; welcome: Welcome }> {
  const token = await mintToken(SECRET, { sub, rooms });
  const socket = makeClient(url, { token });
  const welcome = await new Promise<Welcome>((resolve, reject) => {
    socket.once('welcome', (w: Welcome) => resolve(w));
    socket.once('connect_error', (e) => reject(e));
  });
  return { socket, welcome };
}

function connectError(url: string, auth: Record<string, unknown>): Promise<Error> {
  const socket = makeClient(url, auth);
  return new Promise<Error>((resolve, reject) => {
    socket.once('connect_error', (e) => resolve(e));
    socket.once('connect', () => reject(new Error('connected although it should have been refused')));
  });
}

function ack<T = Record<string, unknown>>(socket: Socket, event: string, data: unknown): Promise<T> {
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, data) as Promise<T>;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function closeClients(): void {
  for (const s of clients) s.close();
  clients.clear();
}

// ---------------------------------------------------------------------------------------------

describe('reference server (socket.io + redis adapter)', () => {
  let redis: RedisHandle | undefined;
  let node1: RefNode;
  let node2: RefNode;
  let limited: RefNode;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx tsc -p .\` first`);
    redis = await startRedis();
    [node1, node2, limited] = await Promise.all([
      startRefNode(redis.url, 'node-1'),
      startRefNode(redis.url, 'node-2'),
      startRefNode(redis.url, 'node-limited', ['--rate-limit', '5', '--room-capacity', '2']),
    ]);
  });

  afterEach(() => {
    closeClients();
  });

  afterAll(async () => {
    closeClients();
    await Promise.all([...procs].map((p) => p.stop()));
    await redis?.stop();
  });

  it('prints the listening line with the real port and versions', () => {
    for (const [node, id] of [[node1, 'node-1'], [node2, 'node-2']] as const) {
      expect(node.listening.event).toBe('listening');
      expect(node.listening.nodeId).toBe(id);
      expect(node.listening.port).toBeGreaterThan(0);
      expect(node.listening.pid).toBe(node.child.pid);
      expect(node.listening.versions['socket.io']).toMatch(/^4\./);
      expect(node.listening.versions['@socket.io/redis-adapter']).toMatch(/^8\./);
      expect(node.listening.versions.node).toBe(process.version);
    }
  });

  it('1. refuses handshakes without a valid token', async () => {
    const noToken = await connectError(node1.url, {});
    expect(noToken.message).toMatch(/^unauthorized/);
    expect(noToken.message).toBe('unauthorized: no token');

    const wrongSecret = await connectError(node1.url, { token: await mintToken('not-the-secret', { sub: 'u', rooms: ['*'] }) });
    expect(wrongSecret.message).toMatch(/^unauthorized/);

    const wrongAudience = await connectError(node1.url, {
      token: await mintToken(SECRET, { sub: 'u', rooms: ['*'], audience: 'someone-else' }),
    });
    expect(wrongAudience.message).toMatch(/^unauthorized/);

    const garbage = await connectError(node2.url, { token: 'not.a.jwt' });
    expect(garbage.message).toMatch(/^unauthorized/);
  });

  it('2. welcomes each client with the node id and echoes ping', async () => {
    const a = await connect(node1.url, ['*']);
    const b = await connect(node2.url, ['*']);
    expect(a.welcome).toEqual({ nodeId: 'node-1', sid: a.socket.id });
    expect(b.welcome).toEqual({ nodeId: 'node-2', sid: b.socket.id });
    expect(await ack(a.socket, 'ping', { t: 12345 })).toEqual({ nodeId: 'node-1', t: 12345 });
    expect(await ack(b.socket, 'ping', {})).toEqual({ nodeId: 'node-2' });
  });

  it('3. join acks with the local member count; ungranted rooms are forbidden', async () => {
    const a = await connect(node1.url, ['room-a']);
    const b = await connect(node1.url, ['room-a']);
    expect(await ack(a.socket, 'join', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1', members: 1 });
    expect(await ack(b.socket, 'join', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1', members: 2 });
    // joining again is idempotent
    expect(await ack(b.socket, 'join', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1', members: 2 });
    expect(await ack(a.socket, 'join', { room: 'room-b' })).toEqual({ ok: false, error: 'forbidden' });
    expect(await ack(a.socket, 'join', { nope: 1 })).toEqual({ ok: false, error: 'bad_request' });
    expect(await ack(a.socket, 'leave', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1' });
    expect(await ack(a.socket, 'join', { room: 'room-a' })).toEqual({ ok: true, nodeId: 'node-1', members: 2 });
    // no ack callback: must not crash the server
    a.socket.emit('join', { room: 'room-a' });
    a.socket.emit('publish', { room: 'room-a', payload: 1 });
    a.socket.emit('ping', { t: 1 });
    expect(await ack(a.socket, 'ping', { t: 2 })).toEqual({ nodeId: 'node-1', t: 2 });
  });

  it('4. publish fans out across nodes through redis, in order and unchanged', async () => {
    const m1 = await connect(node1.url, ['room-a'], 'member-1');
    const m2 = await connect(node2.url, ['room-a'], 'member-2');
    const pub = await connect(node2.url, ['room-a'], 'publisher');
    expect(m1.welcome.nodeId).toBe('node-1');
    expect(m2.welcome.nodeId).toBe('node-2');
    expect((await ack(m1.socket, 'join', { room: 'room-a' })).ok).toBe(true);
    expect((await ack(m2.socket, 'join', { room: 'room-a' })).ok).toBe(true);

    type Msg = { room: string; payload: { pub: string; seq: number; t: number; n: unknown } };
    const got1: Msg[] = [];
    const got2: Msg[] = [];
    const gotPub: Msg[] = [];
    m1.socket.on('msg', (m: Msg) => got1.push(m));
    m2.socket.on('msg', (m: Msg) => got2.push(m));
    pub.socket.on('msg', (m: Msg) => gotPub.push(m));

    const sent: Msg['payload'][] = [];
    for (let seq = 0; seq < 20; seq++) {
      const payload = { pub: 'publisher', seq, t: 1_700_000_000_000 + seq, n: { nested: [seq, 'x', null, true], s: 'é✓' } };
      sent.push(payload);
      expect(await ack(pub.socket, 'publish', { room: 'room-a', payload })).toEqual({ ok: true });
    }
    // An end marker: both streams are ordered, so once it arrives everything before it has too.
    expect(await ack(pub.socket, 'publish', { room: 'room-a', payload: 'end' })).toEqual({ ok: true });
    const ended = (l: Msg[]) => l.length > 0 && (l[l.length - 1].payload as unknown) === 'end';
    await waitFor(() => ended(got1) && ended(got2), 'end marker on both members');

    for (const got of [got1, got2]) {
      const data = got.slice(0, -1);
      expect(data).toHaveLength(20);
      expect(data.map((m) => m.room)).toEqual(Array(20).fill('room-a'));
      expect(data.map((m) => m.payload)).toEqual(sent);
    }
    expect(gotPub).toHaveLength(0); // the publisher is not a member of the room
  });

  it('4b. the publisher receives its own message when it is a member', async () => {
    const a = await connect(node1.url, ['*']);
    const b = await connect(node2.url, ['*']);
    await ack(a.socket, 'join', { room: 'self' });
    await ack(b.socket, 'join', { room: 'self' });
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    a.socket.on('msg', (m: { payload: unknown }) => gotA.push(m.payload));
    b.socket.on('msg', (m: { payload: unknown }) => gotB.push(m.payload));
    expect(await ack(a.socket, 'publish', { room: 'self', payload: { seq: 1 } })).toEqual({ ok: true });
    await waitFor(() => gotA.length === 1 && gotB.length === 1, 'self delivery');
    expect(gotA).toEqual([{ seq: 1 }]);
    expect(gotB).toEqual([{ seq: 1 }]);
    // publishing to an ungranted room
    const c = await connect(node1.url, ['room-a']);
    expect(await ack(c.socket, 'publish', { room: 'self', payload: 1 })).toEqual({ ok: false, error: 'forbidden' });
  });

  it('5. rate limit: the 6th publish within the window is rate_limited; ping is not limited', async () => {
    const c = await connect(limited.url, ['*']);
    const results: unknown[] = [];
    for (let i = 0; i < 6; i++) results.push(await ack(c.socket, 'publish', { room: 'r', payload: i }));
    expect(results.slice(0, 5)).toEqual(Array(5).fill({ ok: true }));
    expect(results[5]).toEqual({ ok: false, error: 'rate_limited' });
    for (let i = 0; i < 10; i++) expect(await ack(c.socket, 'ping', { t: i })).toEqual({ nodeId: 'node-limited', t: i });
  });

  it('6. room capacity: the third join of a 2-member room is room_full', async () => {
    const a = await connect(limited.url, ['*']);
    const b = await connect(limited.url, ['*']);
    const c = await connect(limited.url, ['*']);
    expect(await ack(a.socket, 'join', { room: 'small' })).toEqual({ ok: true, nodeId: 'node-limited', members: 1 });
    expect(await ack(b.socket, 'join', { room: 'small' })).toEqual({ ok: true, nodeId: 'node-limited', members: 2 });
    expect(await ack(c.socket, 'join', { room: 'small' })).toEqual({ ok: false, error: 'room_full' });
    await ack(a.socket, 'leave', { room: 'small' });
    expect(await ack(c.socket, 'join', { room: 'small' })).toEqual({ ok: true, nodeId: 'node-limited', members: 2 });
  });

  it('7. /health and /metrics', async () => {
    const c = await connect(node1.url, ['*']);
    await ack(c.socket, 'join', { room: 'metrics-room' });

    const health = await fetch(`${node1.url}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', nodeId: 'node-1', redis: 'ready' });
    expect(body.connections).toBeGreaterThanOrEqual(1);

    const metrics = await fetch(`${node1.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('wsb_connections');
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toMatch(/wsb_rooms\{node_id="node-1"\} [1-9]/);
    expect(text).toMatch(/wsb_messages_in_total\{event="join",node_id="node-1"\} [1-9]/);
    expect(text).toMatch(/wsb_rejected_total\{reason="unauthorized",node_id="node-1"\} [1-9]/);
    expect(text).toContain('wsb_publish_total');

    expect((await fetch(`${node1.url}/nope`)).status).toBe(404);
  });

  it('8. SIGTERM: local clients get server_shutdown, then the process exits 0', async () => {
    const doomed = await startRefNode(redis!.url, 'node-doomed');
    const c = await connect(doomed.url, ['*']);
    const other = await connect(node1.url, ['*']); // on another node: must not be told
    const events: string[] = [];
    let notice: unknown;
    c.socket.on('server_shutdown', (d: unknown) => {
      notice = d;
      events.push('server_shutdown');
    });
    c.socket.on('disconnect', () => events.push('disconnect'));
    let otherTold = 0;
    other.socket.on('server_shutdown', () => otherTold++);

    doomed.child.kill('SIGTERM');
    const exit = await doomed.exited;
    await waitFor(() => events.includes('disconnect'), 'client disconnect');

    expect(notice).toEqual({ nodeId: 'node-doomed', reconnectDelay: 5000 });
    expect(events).toEqual(['server_shutdown', 'disconnect']);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await ack(other.socket, 'ping', {})).toEqual({ nodeId: 'node-1' });
    expect(otherTold).toBe(0);
    await doomed.stop();
  });

  it('9. bad arguments exit with code 2', async () => {
    const badPort = spawnNode(['--port', 'abc', '--jwt-secret', SECRET]);
    expect((await badPort.exited).code).toBe(2);
    expect(badPort.stderr()).toMatch(/--port/);
    expect(badPort.stdoutLines).toEqual([]);

    const unknown = spawnNode(['--jwt-secret', SECRET, '--no-such-flag']);
    expect((await unknown.exited).code).toBe(2);

    const env = { ...process.env };
    delete env.WSB_JWT_SECRET;
    const noSecret = spawnNode(['--port', '0'], env);
    expect((await noSecret.exited).code).toBe(2);
    expect(noSecret.stderr()).toMatch(/secret/i);

    await Promise.all([badPort.stop(), unknown.stop(), noSecret.stop()]);
  });
});
