import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { SioConnectError } from './sio-client.js';
import { WsClient, jsonWsUrl } from './ws-client.js';

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

describe('jsonWsUrl', () => {
  it('maps http(s) to ws(s), sets the path and puts the token in the query', () => {
    expect(jsonWsUrl('http://127.0.0.1:8080', 'a.b.c')).toBe('ws://127.0.0.1:8080/ws?token=a.b.c');
    expect(jsonWsUrl('https://h:8443/x?y=1', 't', '/other')).toBe('wss://h:8443/other?token=t');
    expect(jsonWsUrl('ws://127.0.0.1:1', 'a+b/c')).toBe('ws://127.0.0.1:1/ws?token=a%2Bb%2Fc');
  });
});

/** A minimal server speaking the JSON wire protocol: 401 unless ?token=good, welcome, echo acks. */
describe('WsClient against a JSON-protocol ws server', () => {
  let http: HttpServer;
  let wss: WebSocketServer;
  let url: string;
  let serverSockets: ServerSocket[];
  const clients: WsClient[] = [];

  beforeEach(async () => {
    serverSockets = [];
    http = createServer((_req, res) => res.writeHead(404).end());
    wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/boom') return void socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n');
      if (u.searchParams.get('token') !== 'good') return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      wss.handleUpgrade(req, socket, head, (ws) => {
        serverSockets.push(ws);
        ws.on('error', () => undefined); // e.g. the oversized frame of the 1009 test
        ws.send(JSON.stringify({ type: 'welcome', data: { nodeId: 'n1', sid: 's1' } }));
        ws.send(JSON.stringify({ type: 'msg', data: { room: 'r', payload: 0 } }));
        ws.on('message', (d) => {
          const f = JSON.parse(d.toString()) as { type: string; id?: number; data?: unknown };
          if (f.type === 'echo' && f.id !== undefined) ws.send(JSON.stringify({ type: 'ack', id: f.id, data: { got: f.data } }));
          else if (f.type === 'echo') ws.send(JSON.stringify({ type: 'echoed', data: f.data }));
        });
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of serverSockets) s.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  const open = async (token = 'good') => {
    const c = await WsClient.connect({ url, token, connectTimeoutMs: 2000 });
    clients.push(c);
    return c;
  };

  it('buffers events that arrive before onEvent is set, then replays them in order', async () => {
    const c = await open();
    await waitFor(() => serverSockets.length === 1);
    await new Promise((r) => setTimeout(r, 50)); // both frames are in before the handler exists
    const events: Array<[string, unknown]> = [];
    c.onEvent = (e, d) => events.push([e, d]);
    await waitFor(() => events.length === 2);
    expect(events).toEqual([
      ['welcome', { nodeId: 'n1', sid: 's1' }],
      ['msg', { room: 'r', payload: 0 }],
    ]);
    expect(c.connected).toBe(true);
  });

  it('resolves acks by id, in any order, and sends plain events without an id', async () => {
    const c = await open();
    c.onEvent = () => undefined;
    const [a, b] = await Promise.all([c.emitWithAck('echo', { n: 1 }), c.emitWithAck('echo', [2])]);
    expect(a).toEqual({ got: { n: 1 } });
    expect(b).toEqual({ got: [2] });
    const echoed: unknown[] = [];
    c.onEvent = (e, d) => e === 'echoed' && echoed.push(d);
    expect(c.emit('echo', 'x')).toBe(true);
    await waitFor(() => echoed.length === 1);
    expect(echoed).toEqual(['x']);
  });

  it('maps a 401 to cause auth, another status to http_status, a closed port to refused', async () => {
    const auth = await connectError(WsClient.connect({ url, token: 'bad' }));
    expect([auth.cause, auth.status]).toEqual(['auth', 401]);
    const boom = await connectError(WsClient.connect({ url, token: 'good', path: '/boom' }));
    expect([boom.cause, boom.status]).toEqual(['http_status', 500]);
    const port = (http.address() as AddressInfo).port;
    await new Promise<void>((resolve) => http.close(() => resolve()));
    const refused = await connectError(WsClient.connect({ url: `http://127.0.0.1:${port}`, token: 'good' }));
    expect(refused.cause).toBe('refused');
    http.listen(0, '127.0.0.1'); // for afterEach
  });

  it('reports the close code once, fails pending acks, and stops sending', async () => {
    const c = await open();
    c.onEvent = () => undefined;
    await waitFor(() => serverSockets.length === 1);
    const closes: Array<[number, string]> = [];
    c.onClose = (code, reason) => closes.push([code, reason]);
    // the server never acks 'hang': the ack fails when the connection closes
    const pending = c.emitWithAck('hang', {}, 5000);
    serverSockets[0].close(1001, 'server shutdown');
    await expect(pending).rejects.toThrow(/connection closed/);
    await waitFor(() => closes.length === 1);
    expect(closes).toEqual([[1001, 'server shutdown']]);
    expect(c.connected).toBe(false);
    expect(c.emit('echo', 1)).toBe(false);
    c.close();
    expect(closes).toHaveLength(1);
  });

  it('sees 1009 when it sends a frame over the server maxPayload', async () => {
    const c = await open();
    c.onEvent = () => undefined;
    let code = 0;
    c.onClose = (cc) => (code = cc);
    c.emit('echo', 'x'.repeat(2000));
    await waitFor(() => code !== 0);
    expect(code).toBe(1009);
  });
});
