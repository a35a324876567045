/**
 * Reference ws server — the system under test for `--server ws`: the `ws` library with a custom
 * Redis pub/sub layer, as seed 002 (TableForge) and seed 003's option 2 ("Custom Redis Pub/Sub for
 * `ws` Library") describe it. Same application protocol meaning as the Socket.IO variant, over the
 * JSON frames of `json-wire.ts`; the cluster bus is `redis-bus.ts` with seed 002's layout.
 *
 * HTTP (one server): `GET /ws` upgrade (JWT from `?token=` or `Authorization: Bearer`, checked before
 * upgrading: 401 otherwise), `/health`, `/stats`, `/metrics`.
 *
 * It imports nothing from the harness.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { createTokenVerifier, type TokenGrant } from './token.js';
import { securityPolicy } from './security.js';
import { WS_PATH } from './json-wire.js';
import { JsonHub, type HubSocket, type HubTransport, type Session } from './json-hub.js';
import { TABLEFORGE_LAYOUT, delay, settleWithin, type Log } from './redis-bus.js';
import type { ReferenceServerOptions } from './options.js';
import type { RunningServer } from './process-main.js';

const stderrLog: Log = (msg) => process.stderr.write(`[reference-server] ${msg}\n`);

export function wsVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const version = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;
  return { ws: version('ws'), ioredis: version('ioredis'), node: process.version };
}

export interface WsReferenceServer extends RunningServer {
  readonly hub: JsonHub<Buffer>;
}

const SESSION = Symbol('session');
const HUB = Symbol('hub');
type TaggedSocket = WebSocket & { [SESSION]: Session<Buffer>; [HUB]: JsonHub<Buffer> };
const SEND_TEXT = { binary: false } as const;

// Shared listeners (no closures per connection): `this` is the socket.
function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const t = this as TaggedSocket;
  if (isBinary) return; // the protocol is text frames only
  t[HUB].message(t[SESSION], (data as Buffer).toString('utf8'));
}
function onWsPong(this: WebSocket): void {
  const t = this as TaggedSocket;
  t[HUB].seen(t[SESSION]);
}
function onWsError(this: WebSocket, err: Error & { code?: string }): void {
  const t = this as TaggedSocket;
  // ws closes the socket itself (1009 for a frame over maxPayload); count why.
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') t[HUB].close(t[SESSION], true);
}
function onWsClose(this: WebSocket): void {
  const t = this as TaggedSocket;
  t[HUB].close(t[SESSION]);
}

/**
 * `maxBuffered` (--max-buffered-bytes, 0: no limit): once more than that waits for this socket
 * (it stopped reading), the connection is terminated — not closed: a close frame would wait
 * behind the backlog — and the hub counts a slow consumer.
 */
function handleOf(ws: WebSocket, maxBuffered = 0): HubSocket<Buffer> {
  const guard = (): void => {
    if (maxBuffered > 0 && ws.bufferedAmount > maxBuffered) {
      (ws as TaggedSocket)[HUB]?.droppedSlowConsumer();
      ws.terminate();
    }
  };
  return {
    send: (frame) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(frame, SEND_TEXT);
      guard();
    },
    sendText: (text) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(text);
      guard();
    },
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    ping: () => {
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    },
  };
}

const transport: HubTransport<Buffer> = {
  frame: (_text, utf8) => utf8,
  fromBus: (utf8) => utf8,
  fanOut: (_room, members, frame) => {
    for (const s of members) s.socket.send(frame);
  },
};

/** Token from `?token=` or `Authorization: Bearer …`. */
function tokenOf(req: IncomingMessage, url: URL): string | null {
  const q = url.searchParams.get('token');
  if (q) return q;
  const h = req.headers.authorization;
  if (typeof h === 'string' && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim() || null;
  return null;
}

function refuse(socket: Duplex, status: number, text: string, body: Record<string, unknown>): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}

export async function startWsServer(opts: ReferenceServerOptions, log: Log = stderrLog): Promise<WsReferenceServer> {
  const { nodeId } = opts;
  const verify = await createTokenVerifier(opts.jwtSecret);
  // Origin, token, room authorization, rate and size limits, send-buffer limit (security.ts).
  const policy = securityPolicy(opts, verify);
  const versions = wsVersions();
  const hub = new JsonHub<Buffer>({ ...opts, layout: TABLEFORGE_LAYOUT, policy }, transport, log);

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/health') {
      const { status, body } = hub.health();
      return sendJson(res, status, body);
    }
    if (path === '/stats') {
      hub.stats().then(
        (body) => sendJson(res, 200, body),
        (err: unknown) => sendJson(res, 500, { error: String(err) }),
      );
      return;
    }
    if (path === '/metrics') {
      hub.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': hub.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
      return;
    }
    if (path === WS_PATH) return sendJson(res, 426, { error: 'upgrade_required' });
    sendJson(res, 404, { error: 'not_found' });
  };

  const httpServer = createServer(onRequest);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: policy.maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
  });

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) return refuse(socket, 404, 'Not Found', { error: 'not_found' });
    if (hub.draining) return refuse(socket, 503, 'Service Unavailable', { error: 'shutting_down' });
    // CORS does not apply to WebSockets: a browser page on another origin is refused here.
    if (!policy.originAllowed(req.headers.origin)) {
      hub.rejectedOrigin();
      return refuse(socket, 403, 'Forbidden', { error: 'origin_not_allowed' });
    }
    policy.authenticate(tokenOf(req, url)).then(
      (grant: TokenGrant) => {
        if (hub.draining) return refuse(socket, 503, 'Service Unavailable', { error: 'shutting_down' });
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws) => {
          const t = ws as TaggedSocket;
          t[HUB] = hub;
          t[SESSION] = hub.open(handleOf(ws, policy.maxBufferedBytes), grant);
          ws.on('message', onWsMessage);
          ws.on('pong', onWsPong);
          ws.on('error', onWsError);
          ws.on('close', onWsClose);
        });
      },
      (err: unknown) => {
        hub.rejectedUnauthorized();
        const code = (err as { code?: unknown }).code;
        refuse(socket, 401, 'Unauthorized', { error: 'unauthorized', reason: code === 'no_token' ? 'no token' : typeof code === 'string' ? code : String(err) });
      },
    );
  });

  // Keepalive: a WebSocket ping every --ping-interval; a connection silent for longer than
  // --ping-interval + --ping-timeout is dropped (the socket.io variant's heartbeat, on ws frames).
  const keepalive = setInterval(() => {
    const cutoff = Date.now() - opts.pingInterval - opts.pingTimeout;
    for (const s of hub.sessions) {
      if (s.lastSeen < cutoff) s.socket.terminate();
      else s.socket.ping?.();
    }
  }, opts.pingInterval);
  keepalive.unref();

  try {
    // Redis first: a client (e.g. one reconnecting through the load balancer) can only reach this
    // node once it can fan out across nodes.
    await hub.start();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      httpServer.once('error', onError);
      httpServer.listen(opts.port, opts.host, () => {
        httpServer.off('error', onError);
        resolve();
      });
    });
  } catch (err) {
    clearInterval(keepalive);
    await hub.bus.close();
    throw err;
  }
  httpServer.on('error', (err) => log(`http server error: ${err.message}`));
  const port = (httpServer.address() as AddressInfo).port;

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (graceMs: number = opts.shutdownGraceMs): Promise<void> => {
    shutdownPromise ??= (async () => {
      hub.notifyShutdown();
      // Stop accepting new TCP connections now so a load balancer fails over to other nodes;
      // established WebSocket connections stay open for the grace period.
      httpServer.close();
      httpServer.closeIdleConnections();
      // The grace is for connected clients to hear `server_shutdown`; with none there is nothing to wait for.
      if (graceMs > 0 && hub.sessions.size > 0) await delay(graceMs);
      clearInterval(keepalive);
      await hub.closeAll();
      await settleWithin(new Promise<void>((r) => wss.close(() => r())), 1000);
      await hub.bus.close();
    })();
    return shutdownPromise;
  };

  return { nodeId, port, versions, hub, shutdown };
}
