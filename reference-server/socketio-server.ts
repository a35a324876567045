/**
 * Reference Socket.IO server — the system under test for wsbench.
 *
 * Modelled on the seed ScalableWebSocketServer: Socket.IO 4 + @socket.io/redis-adapter (ioredis),
 * JWT auth at the handshake, room authorization, per-connection rate limit, message size cap,
 * graceful `server_shutdown` notification, /health and /metrics on the same HTTP server.
 *
 * It deliberately imports nothing from the harness (cli/, cluster/, load/, …): it is a separate program.
 *
 * Wire protocol (client → server, all with an optional ack callback):
 *   join    { room }           → { ok: true, nodeId, members } | { ok: false, error: 'forbidden'|'room_full'|'rate_limited'|'bad_request' }
 *   leave   { room }           → { ok: true, nodeId } | { ok: false, error: 'bad_request' }
 *   publish { room, payload }  → { ok: true } | { ok: false, error: 'rate_limited'|'forbidden'|'bad_request' }
 *   ping    any                → { nodeId, t }   (t echoed from data.t)
 * Server → client:
 *   welcome         { nodeId, sid }
 *   msg             { room, payload }            (payload passed through untouched)
 *   server_shutdown { nodeId, reconnectDelay: 5000 }
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Server, type DefaultEventsMap, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis, type RedisOptions } from 'ioredis';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createTokenVerifier, type TokenGrant } from './token.js';
import { securityPolicy } from './security.js';
import { guardEngineSocket } from './backpressure.js';
import { CalibrationFaults, hookSocketIoAdapter } from './calibration-faults.js';
import { DEFAULT_OPTIONS, MAX_DISCONNECTION_DURATION_MS, MAX_ROOM_NAME_LENGTH, RECONNECT_DELAY_MS, type ReferenceServerOptions } from './options.js';

export { DEFAULT_OPTIONS, RECONNECT_DELAY_MS, type ReferenceServerOptions };

// A type alias (not an interface) so it is assignable to Record<string, string>.
export type Versions = {
  'socket.io': string;
  '@socket.io/redis-adapter': string;
  ioredis: string;
  node: string;
  /** With `adapter: 'redis-streams'`. */
  '@socket.io/redis-streams-adapter'?: string;
};

export interface ReferenceServer {
  readonly nodeId: string;
  /** Actual listening port (useful with port 0). */
  readonly port: number;
  readonly io: RefServer;
  readonly httpServer: HttpServer;
  readonly registry: Registry;
  readonly versions: Versions;
  /** Notify local clients, wait `graceMs`, close Socket.IO and Redis. Idempotent. */
  shutdown(graceMs?: number): Promise<void>;
}

export type Log = (msg: string) => void;
const stderrLog: Log = (msg) => process.stderr.write(`[reference-server] ${msg}\n`);

export function packageVersions(): Versions {
  const require = createRequire(import.meta.url);
  const version = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;
  return {
    'socket.io': version('socket.io'),
    '@socket.io/redis-adapter': version('@socket.io/redis-adapter'),
    ioredis: version('ioredis'),
    node: process.version,
  };
}

type Ack = (response: unknown) => void;
export interface SocketData {
  grant: TokenGrant;
}
export type RefServer = Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;
type RefSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;

// Shared immutable ack bodies: no per-message allocation for the common replies.
const ACK_OK = Object.freeze({ ok: true });
const ERR_BAD_REQUEST = Object.freeze({ ok: false, error: 'bad_request' });
const ERR_FORBIDDEN = Object.freeze({ ok: false, error: 'forbidden' });
const ERR_RATE_LIMITED = Object.freeze({ ok: false, error: 'rate_limited' });
const ERR_ROOM_FULL = Object.freeze({ ok: false, error: 'room_full' });

/** Socket.IO passes the ack callback as the last argument (if the client asked for one). */
function splitArgs(args: unknown[]): [unknown, Ack | undefined] {
  const last = args[args.length - 1];
  if (typeof last === 'function') return [args.length > 1 ? args[0] : undefined, last as Ack];
  return [args[0], undefined];
}

function roomOf(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return null;
  const room = (data as { room?: unknown }).room;
  return typeof room === 'string' && room.length > 0 && room.length <= MAX_ROOM_NAME_LENGTH ? room : null;
}

/** Logs Redis errors tersely: once per distinct message per 5 s, plus a line on recovery. */
function watchRedis(client: Redis, name: string, log: Log): void {
  let lastMsg = '';
  let lastAt = 0;
  let failing = false;
  client.on('error', (err: Error) => {
    const msg = err.message;
    const now = Date.now();
    failing = true;
    if (msg !== lastMsg || now - lastAt > 5000) {
      lastMsg = msg;
      lastAt = now;
      log(`redis ${name} error: ${msg}`);
    }
  });
  client.on('ready', () => {
    if (failing) log(`redis ${name} ready again`);
    failing = false;
    lastMsg = '';
  });
}

function whenReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<void> {
  await Promise.race([p.then(() => undefined, () => undefined), delay(ms)]);
}

/** Polls CLIENT LIST until a connection named `name` has run XREAD (the streams adapter's reader), at most `ms`. */
async function waitForStreamReader(client: Redis, name: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const reading = (line: string): boolean => line.includes(` name=${name} `) && / cmd=xread( |$)/.test(line);
  while (Date.now() < deadline) {
    const list = await Promise.race([client.client('LIST') as Promise<string>, delay(1000).then(() => '')]);
    if (list.split('\n').some(reading)) return;
    await delay(20);
  }
}

async function quitRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  // quit() waits for queued commands; during a Redis outage it would never finish, so bound it.
  await withTimeout(client.quit(), 1000);
  client.disconnect();
}

export async function startReferenceServer(
  opts: ReferenceServerOptions,
  log: Log = stderrLog,
): Promise<ReferenceServer> {
  const { nodeId } = opts;
  const verify = await createTokenVerifier(opts.jwtSecret);
  // Origin, token, room authorization, rate and size limits, send-buffer limit (security.ts).
  const policy = securityPolicy(opts, verify);
  const versions = packageVersions();
  // --adapter redis-streams: @socket.io/redis-streams-adapter and connection state recovery (seed 001 §4).
  const streams = opts.adapter === 'redis-streams';
  if (streams) versions['@socket.io/redis-streams-adapter'] = createRequire(import.meta.url)('@socket.io/redis-streams-adapter/package.json').version as string;

  // ---- metrics -------------------------------------------------------------------------------
  const registry = new Registry();
  registry.setDefaultLabels({ node_id: nodeId });
  collectDefaultMetrics({ register: registry });
  // `io` is assigned below; the collect callbacks only run on scrape.
  let io: RefServer | undefined;
  new Gauge({
    name: 'wsb_connections',
    help: 'Socket.IO connections on this node',
    registers: [registry],
    collect() {
      this.set(io ? io.of('/').sockets.size : 0);
    },
  });
  new Gauge({
    name: 'wsb_rooms',
    help: 'Rooms with at least one local member (socket-id rooms excluded)',
    registers: [registry],
    collect() {
      if (!io) return this.set(0);
      const adapter = io.of('/').adapter;
      let n = 0;
      for (const room of adapter.rooms.keys()) if (!adapter.sids.has(room)) n++;
      this.set(n);
    },
  });
  const messagesIn = new Counter({
    name: 'wsb_messages_in_total',
    help: 'Client events received, by event',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const publishTotal = new Counter({
    name: 'wsb_publish_total',
    help: 'Accepted publishes (broadcast to the room cluster-wide)',
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'wsb_rejected_total',
    help: 'Rejected handshakes / events, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // Pre-bound children: no label hashing on the hot path.
  const inJoin = messagesIn.labels('join');
  const inLeave = messagesIn.labels('leave');
  const inPublish = messagesIn.labels('publish');
  const inPing = messagesIn.labels('ping');
  const rejUnauthorized = rejected.labels('unauthorized');
  const rejForbidden = rejected.labels('forbidden');
  const rejRateLimited = rejected.labels('rate_limited');
  const rejRoomFull = rejected.labels('room_full');
  const rejOrigin = rejected.labels('origin');
  const rejSlowConsumer = rejected.labels('slow_consumer');
  for (const c of [inJoin, inLeave, inPublish, inPing, rejUnauthorized, rejForbidden, rejRateLimited, rejRoomFull, rejOrigin, rejSlowConsumer]) c.inc(0);

  // ---- redis ---------------------------------------------------------------------------------
  const redisOptions: RedisOptions = {
    // Never fail commands during an outage (the adapter does not catch publish rejections):
    // they wait in the offline queue and are flushed on reconnect.
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    connectionName: `wsbench-ref-${nodeId}`,
  };
  const pub = new Redis(opts.redisUrl, redisOptions);
  const sub = pub.duplicate();
  watchRedis(pub, 'pub', log);
  watchRedis(sub, 'sub', log);

  // ---- http ----------------------------------------------------------------------------------
  let draining = false;
  const redisReady = (): boolean => pub.status === 'ready' && sub.status === 'ready';

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith('/socket.io/')) return; // engine.io handles these (it wraps this listener)
    if (path === '/health') {
      const ok = redisReady() && !draining;
      sendJson(res, ok ? 200 : 503, {
        status: ok ? 'ok' : draining ? 'draining' : 'degraded',
        nodeId,
        connections: io ? io.of('/').sockets.size : 0,
        redis: redisReady() ? 'ready' : `pub:${pub.status},sub:${sub.status}`,
      });
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
      return;
    }
    sendJson(res, 404, { error: 'not_found' });
  };

  const httpServer = createServer(onRequest);

  // ---- socket.io -----------------------------------------------------------------------------
  const server: RefServer = new Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>(
    httpServer,
    {
      path: '/socket.io/',
      transports: ['websocket'],
      serveClient: false,
      maxHttpBufferSize: policy.maxPayload,
      // Origin check at the upgrade (CORS does not apply to WebSockets); engine.io answers a refusal with HTTP 400.
      allowRequest: (req, callback) => {
        if (policy.originAllowed(req.headers.origin)) return callback(null, true);
        rejOrigin.inc();
        callback('origin not allowed', false);
      },
      pingInterval: opts.pingInterval,
      pingTimeout: opts.pingTimeout,
      // redis-streams: every broadcast goes through one Redis stream (XADD, then XREAD by every
      // node) and carries its stream offset; the adapter duplicates `pub` for its reader and its
      // pub/sub channel (`sub` stays idle). A session is stored in Redis when the node sees its
      // connection drop, so a client can resume it on any node within 2 minutes — and a SIGKILLed
      // node stores nothing. `skipMiddlewares: false`: a recovered socket is authenticated again.
      adapter: streams ? (await import('@socket.io/redis-streams-adapter')).createAdapter(pub) : createAdapter(pub, sub),
      ...(streams ? { connectionStateRecovery: { maxDisconnectionDuration: MAX_DISCONNECTION_DURATION_MS, skipMiddlewares: false } } : {}),
    },
  );
  io = server;
  const nsp = server.of('/');
  const adapter = nsp.adapter;
  // --calibration-fault (wsbench calibrate only): known faults on the room broadcasts this node delivers.
  const faults = new CalibrationFaults(opts.calibrationFaults ?? []);
  if (faults.active) {
    hookSocketIoAdapter(adapter, faults);
    log(faults.describe());
  }

  server.use((socket, next) => {
    if (draining) return next(new Error('shutting_down'));
    const token: unknown = socket.handshake.auth?.token;
    policy.authenticate(token).then(
      (grant) => {
        socket.data.grant = grant;
        next();
      },
      (err: unknown) => {
        rejUnauthorized.inc();
        const code = (err as { code?: unknown }).code;
        next(new Error(`unauthorized: ${code === 'no_token' ? 'no token' : typeof code === 'string' ? code : String(err)}`));
      },
    );
  });

  const { rateWindowMs, roomCapacity } = opts;
  const { rateLimit, mayUse } = policy;

  server.on('connection', (socket: RefSocket) => {
    const grant = socket.data.grant;
    // Per-connection fixed-window limiter (seed 001: "Max 100 messages/minute per connection").
    let windowStart = 0;
    let used = 0;
    const allow = (): boolean => {
      const now = Date.now();
      if (now - windowStart >= rateWindowMs) {
        windowStart = now;
        used = 0;
      }
      return ++used <= rateLimit;
    };

    // A client that stops reading must not make this node buffer without bound (--max-buffered-bytes).
    if (policy.maxBufferedBytes > 0) {
      guardEngineSocket(socket.conn, policy.maxBufferedBytes, () => rejSlowConsumer.inc());
    }
    socket.emit('welcome', { nodeId, sid: socket.id });

    socket.on('join' , (...args: unknown[]) => {
      inJoin.inc();
      const [data, ack] = splitArgs(args);
      if (!allow()) {
        rejRateLimited.inc();
        return ack?.(ERR_RATE_LIMITED);
      }
      const room = roomOf(data);
      if (room === null) return ack?.(ERR_BAD_REQUEST);
      if (!mayUse(grant, room)) {
        rejForbidden.inc();
        return ack?.(ERR_FORBIDDEN);
      }
      if (!socket.rooms.has(room)) {
        // Capacity is checked against this node's LOCAL members of the room only (a cluster-wide
        // count would need a cross-node request per join); the cluster-wide limit is thus
        // roomCapacity × nodes.
        const members = adapter.rooms.get(room)?.size ?? 0;
        if (members >= roomCapacity) {
          rejRoomFull.inc();
          return ack?.(ERR_ROOM_FULL);
        }
        void socket.join(room);
      }
      ack?.({ ok: true, nodeId, members: adapter.rooms.get(room)?.size ?? 0 });
    });

    socket.on('leave' , (...args: unknown[]) => {
      inLeave.inc();
      const [data, ack] = splitArgs(args);
      const room = roomOf(data);
      if (room === null) return ack?.(ERR_BAD_REQUEST);
      void socket.leave(room);
      ack?.({ ok: true, nodeId });
    });

    socket.on('publish' , (...args: unknown[]) => {
      inPublish.inc();
      const [data, ack] = splitArgs(args);
      if (!allow()) {
        rejRateLimited.inc();
        return ack?.(ERR_RATE_LIMITED);
      }
      const room = roomOf(data);
      if (room === null) return ack?.(ERR_BAD_REQUEST);
      if (!mayUse(grant, room)) {
        rejForbidden.inc();
        return ack?.(ERR_FORBIDDEN);
      }
      // Delivered locally and, via the Redis adapter, to the room's members on every other node.
      server.to(room).emit('msg', { room, payload: (data as { payload?: unknown }).payload });
      publishTotal.inc();
      ack?.(ACK_OK);
    });

    socket.on('ping' , (...args: unknown[]) => {
      inPing.inc();
      const [data, ack] = splitArgs(args);
      if (!ack) return;
      const t = typeof data === 'object' && data !== null ? (data as { t?: unknown }).t : undefined;
      ack({ nodeId, t });
    });
  });

  // ---- start ---------------------------------------------------------------------------------
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      httpServer.once('error', onError);
      httpServer.listen(opts.port, opts.host, () => {
        httpServer.off('error', onError);
        resolve();
      });
    });
  } catch (err) {
    server.engine.close();
    pub.disconnect();
    sub.disconnect();
    throw err;
  }
  httpServer.on('error', (err) => log(`http server error: ${err.message}`));
  // The harness only learns about this node once the adapter can actually fan out messages.
  await Promise.all([whenReady(pub), whenReady(sub)]);
  // Commands on one connection are answered in order: once this PING returns, the adapter's
  // (p)subscribe calls queued before it are active, so cross-node delivery works from the start.
  await withTimeout(sub.ping(), 5000);
  // The streams adapter reads with XREAD from `$` (what is added after its first read): wait until
  // its reader is blocked in XREAD so nothing other nodes add from now on is missed.
  if (streams) await waitForStreamReader(pub, `wsbench-ref-${nodeId}`, 5000);
  const port = (httpServer.address() as AddressInfo).port;

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (graceMs: number = opts.shutdownGraceMs): Promise<void> => {
    shutdownPromise ??= (async () => {
      draining = true;
      faults.close();
      // Local sockets only: io.emit would also go through Redis to every other node's clients.
      server.local.emit('server_shutdown', { nodeId, reconnectDelay: RECONNECT_DELAY_MS });
      // Stop accepting new TCP connections now so a load balancer fails over to other nodes;
      // established WebSocket connections stay open for the grace period.
      httpServer.close();
      // The grace is for connected clients to hear `server_shutdown`; with none there is nothing to wait for.
      if (graceMs > 0 && server.engine.clientsCount > 0) await delay(graceMs);
      await withTimeout(server.close(), 3000);
      await Promise.all([quitRedis(pub), quitRedis(sub)]);
    })();
    return shutdownPromise;
  };

  return {
    nodeId,
    port,
    io: server,
    httpServer,
    registry,
    versions,
    shutdown,
  };
}
