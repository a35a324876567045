/**
 * The lean client's connection state recovery framing (Socket.IO 4.6+), against a real socket.io
 * server with `connectionStateRecovery` (in-memory adapter; the reference server's redis-streams
 * variant is covered by test/integration/adapter-streams.test.ts): the pid of the CONNECT ack and
 * the offset each event carries as its last argument, `{token, pid, offset}` on resuming, the
 * replay written before the CONNECT ack, and what a resumed session looks like on both sides.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { SioClient, SioConnectError, type SioConnectOptions } from './sio-client.js';

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SioClient connection state recovery against a real socket.io server', () => {
  let http: HttpServer;
  let io: Server;
  let url: string;
  let serverSockets: ServerSocket[];
  let middlewareRuns: number;
  /** When set, the middleware calls it for a recovered socket and holds that socket there until `release()`. */
  let holdRecovered: ((release: () => void) => void) | null;
  const clients: SioClient[] = [];

  beforeEach(async () => {
    serverSockets = [];
    middlewareRuns = 0;
    holdRecovered = null;
    http = createServer();
    io = new Server(http, {
      transports: ['websocket'],
      pingInterval: 200,
      pingTimeout: 300,
      // As the reference server's redis-streams variant: a resumed socket goes through the middlewares again.
      connectionStateRecovery: { maxDisconnectionDuration: 60_000, skipMiddlewares: false },
    });
    io.use((socket, next) => {
      middlewareRuns++;
      if (socket.handshake.auth?.token !== 'good') return next(new Error('unauthorized: bad token'));
      const hold = holdRecovered;
      if (hold !== null && socket.recovered) hold(() => next());
      else next();
    });
    io.on('connection', (socket) => {
      serverSockets.push(socket);
      socket.emit('welcome', { n: serverSockets.length });
      socket.on('join', (room: string, ack: (v: unknown) => void) => {
        void socket.join(room);
        ack({ ok: true });
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });

  async function connect(extra: Partial<SioConnectOptions> = {}): Promise<{ c: SioClient; got: Array<[string, unknown]> }> {
    const c = await SioClient.connect({ url, token: 'good', ...extra });
    clients.push(c);
    const got: Array<[string, unknown]> = [];
    c.onEvent = (event, data) => got.push([event, data]);
    return { c, got };
  }

  /** Drops the transport from the server side without a Socket.IO DISCONNECT: a recoverable close ("forced close"). */
  async function drop(c: SioClient, s: ServerSocket): Promise<void> {
    let closed = false;
    c.onClose = () => (closed = true);
    s.conn.close();
    await waitFor(() => closed);
  }

  it('off by default: no pid is sent, no session is kept, the offset argument is not delivered as data', async () => {
    const { c, got } = await connect();
    await waitFor(() => serverSockets.length === 1 && got.length === 1);
    expect(serverSockets[0].handshake.auth).toEqual({ token: 'good' });
    io.emit('note', 'hello');
    await waitFor(() => got.length === 2);
    // The server appends the offset ("<ms>-<n>" style id) as a last argument: not part of the data.
    expect(got).toEqual([
      ['welcome', { n: 1 }],
      ['note', 'hello'],
    ]);
    expect(c.session()).toBeNull();
    expect(c.recovered).toBe(false);
    expect(c.replayed).toBe(0);
  });

  it('keeps the pid and the last offset, and resumes the session: same sid, rooms kept, the missed events replayed first and counted', async () => {
    const first = await connect({ recover: true });
    await waitFor(() => serverSockets.length === 1 && first.got.length === 1);
    await expect(first.c.emitWithAck('join', 'r')).resolves.toEqual({ ok: true });
    io.to('r').emit('msg', { n: 1 });
    await waitFor(() => first.got.length === 2);
    const s1 = serverSockets[0];
    const session = first.c.session()!;
    expect(session.pid).toBe((s1 as unknown as { pid: string }).pid);
    expect(typeof session.offset).toBe('string');

    await drop(first.c, s1);
    expect(first.c.session()).toEqual(session); // still readable after the close
    io.to('r').emit('msg', { n: 2 });
    io.to('elsewhere').emit('msg', { n: 'not for r' });
    io.to('r').emit('msg', { n: 3 });
    io.emit('note', 'to all'); // a string argument, then the offset

    const second = await connect({ recover: session });
    expect(second.c.recovered).toBe(true);
    expect(second.c.replayed).toBe(3);
    expect(second.c.sid).toBe(first.c.sid);
    await waitFor(() => second.got.length === 4);
    // The replay comes first and in order, then what the server sent after the CONNECT ack.
    expect(second.got).toEqual([
      ['msg', { n: 2 }],
      ['msg', { n: 3 }],
      ['note', 'to all'],
      ['welcome', { n: 2 }],
    ]);
    // What the client sent: socket.io-client's `{...auth, pid, offset}`; the middlewares ran again.
    expect(serverSockets[1].handshake.auth).toEqual({ token: 'good', pid: session.pid, offset: session.offset });
    expect(serverSockets[1].recovered).toBe(true);
    expect(middlewareRuns).toBe(2);
    // The room came back with the session: no rejoin needed.
    io.to('r').emit('msg', { n: 4 });
    await waitFor(() => second.got.length === 5);
    expect(second.got[4]).toEqual(['msg', { n: 4 }]);
    // Same session, later offset.
    const again = second.c.session()!;
    expect(again.pid).toBe(session.pid);
    expect(again.offset).not.toBe(session.offset);
  });

  it('replays more than the early-event cap (256): every missed event, in order', async () => {
    const first = await connect({ recover: true });
    await waitFor(() => first.got.length === 1);
    await first.c.emitWithAck('join', 'r');
    await drop(first.c, serverSockets[0]);
    for (let n = 0; n < 300; n++) io.to('r').emit('msg', { n });
    const second = await connect({ recover: first.c.session()! });
    expect(second.c.recovered).toBe(true);
    expect(second.c.replayed).toBe(300);
    await waitFor(() => second.got.length === 301);
    expect(second.got.slice(0, 300).map(([, d]) => (d as { n: number }).n)).toEqual(Array.from({ length: 300 }, (_, n) => n));
    expect(second.got[300][0]).toBe('welcome');
  });

  it('an unknown session gets a fresh one: not recovered, nothing replayed, a new pid', async () => {
    const { c } = await connect({ recover: { pid: 'no-such-session', offset: '0-0' } });
    expect(c.recovered).toBe(false);
    expect(c.replayed).toBe(0);
    const s = c.session()!;
    expect(s.pid).not.toBe('no-such-session');
    expect(s.pid.length).toBeGreaterThan(0);
  });

  it('a resumed session is authenticated again: a bad token is refused although the session exists', async () => {
    const first = await connect({ recover: true });
    await waitFor(() => first.got.length === 1);
    await drop(first.c, serverSockets[0]);
    let err: unknown;
    try {
      await SioClient.connect({ url, token: 'bad', recover: first.c.session()! });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SioConnectError);
    expect((err as SioConnectError).cause).toBe('auth');
    expect(serverSockets.length).toBe(1);
  });

  // socket.io 4.8 behaviour the wsbench figures depend on (README, "Connection state recovery"):
  // a resumed socket is back in its rooms from the start, but it only receives broadcasts once the
  // middlewares have let it through; what is broadcast in between is neither sent nor replayed.
  it('socket.io: a broadcast while the resumed socket is still in the middlewares is neither delivered nor replayed', async () => {
    const first = await connect({ recover: true });
    await waitFor(() => first.got.length === 1);
    await first.c.emitWithAck('join', 'r');
    await drop(first.c, serverSockets[0]);
    io.to('r').emit('msg', { n: 'while away' });
    holdRecovered = (release) => {
      io.to('r').emit('msg', { n: 'in the middlewares' });
      setTimeout(release, 50);
    };
    const second = await connect({ recover: first.c.session()! });
    expect(second.c.recovered).toBe(true);
    io.to('r').emit('msg', { n: 'after' });
    await waitFor(() => second.got.length === 3);
    expect(second.c.replayed).toBe(1);
    expect(second.got).toEqual([
      ['msg', { n: 'while away' }],
      ['welcome', { n: 2 }],
      ['msg', { n: 'after' }],
    ]);
  });
});
