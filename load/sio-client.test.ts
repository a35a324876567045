import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { SioClient, SioConnectError, engineIoUrl } from './sio-client.js';

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function connectError(p: Promise<unknown>): Promise<SioConnectError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SioConnectError);
    return err as SioConnectError;
  }
  throw new Error('expected the connection to fail');
}

describe('engineIoUrl', () => {
  it('maps http(s) to ws(s) and sets path and query', () => {
    expect(engineIoUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket');
    expect(engineIoUrl('https://127.0.0.1:8443/', '/x/')).toBe('wss://127.0.0.1:8443/x/?EIO=4&transport=websocket');
    expect(engineIoUrl('ws://127.0.0.1:1')).toBe('ws://127.0.0.1:1/socket.io/?EIO=4&transport=websocket');
  });
});

describe('SioClient against a real socket.io server', () => {
  let http: HttpServer;
  let io: Server;
  let url: string;
  let serverSockets: ServerSocket[];
  const clients: SioClient[] = [];

  beforeEach(async () => {
    serverSockets = [];
    http = createServer();
    io = new Server(http, { transports: ['websocket'], pingInterval: 200, pingTimeout: 300 });
    io.use((socket, next) => {
      if (socket.handshake.auth?.token === 'good') next();
      else next(new Error('unauthorized: no token'));
    });
    io.on('connection', (socket) => {
      serverSockets.push(socket);
      socket.emit('welcome', { x: 1 });
      socket.on('echo', (data: unknown, ack?: (v: unknown) => void) => {
        if (typeof ack === 'function') ack({ got: data });
        else socket.emit('echoed', data);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });

  async function connect(token = 'good', extra: { localAddress?: string } = {}): Promise<SioClient> {
    const c = await SioClient.connect({ url, token, ...extra });
    clients.push(c);
    return c;
  }

  it('connects; sid matches the server socket id', async () => {
    const c = await connect();
    expect(c.connected).toBe(true);
    await waitFor(() => serverSockets.length === 1);
    expect(c.sid).toBe(serverSockets[0].id);
    expect(c.sid.length).toBeGreaterThan(0);
  });

  it('once connected, its socket keeps only the message, close and error listeners, and the shared URL string', async () => {
    const a = await connect();
    const b = await connect();
    const ws = (c: SioClient) => (c as unknown as { ws: { _events: object; _eventsCount: number; _url: string; eventNames(): unknown[] } }).ws;
    expect(ws(a).eventNames().sort()).toEqual(['close', 'error', 'message']);
    expect(ws(a)._eventsCount).toBe(3);
    expect(Object.getPrototypeOf(Object.getPrototypeOf(ws(a)._events))).toBeNull();
    expect(ws(a)._url).toBe(engineIoUrl(url));
    // Still a working connection: events, acks and the close after it.
    await expect(a.emitWithAck('echo', 7, 2000)).resolves.toEqual({ got: 7 });
    let closed: string | null = null;
    b.onClose = (_code, reason) => (closed = reason);
    await waitFor(() => serverSockets.length === 2);
    serverSockets[1].disconnect(true);
    await waitFor(() => closed !== null);
    expect(closed).toBe('io server disconnect');
  });

  it('bad token rejects with cause auth and the server message', async () => {
    const err = await connectError(SioClient.connect({ url, token: 'bad' }));
    expect(err.cause).toBe('auth');
    expect(err.message).toBe('unauthorized: no token');
    expect(serverSockets.length).toBe(0);
  });

  it('delivers server events, including one emitted on connection before onEvent is set', async () => {
    const c = await connect();
    const got: Array<[string, unknown]> = [];
    c.onEvent = (event, data) => got.push([event, data]);
    await waitFor(() => got.length >= 1);
    expect(got[0]).toEqual(['welcome', { x: 1 }]);

    c.emit('echo', 'plain');
    await waitFor(() => got.length >= 2);
    expect(got[1]).toEqual(['echoed', 'plain']);

    serverSockets[0].emit('noargs');
    await waitFor(() => got.length >= 3);
    expect(got[2]).toEqual(['noargs', undefined]);
  });

  it('emitWithAck round-trips', async () => {
    const c = await connect();
    await expect(c.emitWithAck('echo', { n: 42 })).resolves.toEqual({ got: { n: 42 } });
    const many = await Promise.all([1, 2, 3].map((n) => c.emitWithAck('echo', n)));
    expect(many).toEqual([{ got: 1 }, { got: 2 }, { got: 3 }]);
  });

  it('emitWithAck rejects on timeout when the server never acks', async () => {
    const c = await connect();
    await expect(c.emitWithAck('nobody-listens', 1, 100)).rejects.toThrow(/ack timeout/);
    expect(c.connected).toBe(true);
    // The emptied table is dropped, as after a settled ack: none is kept per connection for good.
    expect((c as unknown as { acks: Map<number, unknown> | null }).acks).toBeNull();
    // A later ack still works (a fresh table).
    await expect(c.emitWithAck('echo', 7)).resolves.toEqual({ got: 7 });
    expect((c as unknown as { acks: Map<number, unknown> | null }).acks).toBeNull();
  });

  it('emitWithAck rejects when the connection closes', async () => {
    const c = await connect();
    const p = c.emitWithAck('nobody-listens', 1, 5000);
    c.close();
    await expect(p).rejects.toThrow(/closed/);
  });

  it('answers Engine.IO pings: still connected after several ping intervals', async () => {
    const c = await connect();
    let closed = 0;
    c.onClose = () => closed++;
    await new Promise((r) => setTimeout(r, 1000)); // pingInterval 200 + pingTimeout 300 ≪ 1000
    expect(c.connected).toBe(true);
    expect(closed).toBe(0);
    expect(io.engine.clientsCount).toBe(1);
  });

  it('refused port rejects with cause refused', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await connectError(SioClient.connect({ url: `http://127.0.0.1:${port}`, token: 'good' }));
    expect(err.cause).toBe('refused');
  });

  it('binds the local address', async () => {
    const c = await connect('good', { localAddress: '127.0.2.1' });
    await waitFor(() => serverSockets.length === 1);
    expect(serverSockets[0].handshake.address.endsWith('127.0.2.1')).toBe(true);
    expect(c.connected).toBe(true);
  });

  it('server-side disconnect calls onClose exactly once', async () => {
    const c = await connect();
    const calls: Array<[number, string]> = [];
    c.onClose = (code, reason) => calls.push([code, reason]);
    await waitFor(() => serverSockets.length === 1);
    serverSockets[0].disconnect();
    await waitFor(() => calls.length >= 1);
    await waitFor(() => io.engine.clientsCount === 0); // underlying transport gone too
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.length).toBe(1);
    expect(calls[0][1]).toBe('io server disconnect');
    expect(c.connected).toBe(false);
    expect(c.emit('echo', 1)).toBe(false);
  });

  it('client close sends DISCONNECT: the server sees a client-namespace disconnect', async () => {
    const c = await connect();
    await waitFor(() => serverSockets.length === 1);
    let reason = '';
    serverSockets[0].on('disconnect', (r) => (reason = r));
    let closes = 0;
    c.onClose = () => closes++;
    c.close();
    await waitFor(() => reason !== '');
    expect(reason).toBe('client namespace disconnect');
    await waitFor(() => io.engine.clientsCount === 0);
    expect(closes).toBe(1);
  });

  it('wrong path: engine.io drops the upgrade socket → cause error (socket hang up), not a hang', async () => {
    const err = await connectError(
      SioClient.connect({ url, token: 'good', path: '/nope/', connectTimeoutMs: 5000 }),
    );
    expect(err.cause).toBe('error');
    expect(err.message).toMatch(/ECONNRESET|hang up/);
  });
});

describe('SioClient connect failures against fake servers', () => {
  let http: HttpServer | null = null;
  let tcp: NetServer | null = null;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    if (http) await new Promise<void>((resolve) => http!.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp!.close(() => resolve()));
    http = null;
    tcp = null;
  });

  it('HTTP error on upgrade → http_status with the status', async () => {
    http = createServer((_req, res) => res.writeHead(503).end());
    http.on('upgrade', (_req, socket: Socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const err = await connectError(SioClient.connect({ url: `http://127.0.0.1:${port}`, token: 'good' }));
    expect(err.cause).toBe('http_status');
    expect(err.status).toBe(403);
  });

  it('server that accepts TCP but never answers → timeout', async () => {
    tcp = createNetServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => tcp!.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as AddressInfo).port;
    const t0 = Date.now();
    const err = await connectError(
      SioClient.connect({ url: `http://127.0.0.1:${port}`, token: 'good', connectTimeoutMs: 300 }),
    );
    expect(err.cause).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('server closes after the upgrade without a CONNECT ack → closed', async () => {
    const { WebSocketServer } = await import('ws');
    http = createServer();
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws) => {
      ws.send('0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
      ws.on('message', () => ws.close(1000));
    });
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const err = await connectError(SioClient.connect({ url: `http://127.0.0.1:${port}`, token: 'good' }));
    expect(err.cause).toBe('closed');
    wss.close();
  });
});
