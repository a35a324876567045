/**
 * Reference Bun server — the system under test for `--server bun`, after seed 004: `Bun.serve`
 * with its `websocket` handlers, local room fan-out through Bun's topics (`ws.subscribe(room)`,
 * `server.publish(room, frame)`), and Redis pub/sub between nodes as 004's ClusterManager does it
 * (`redis-bus.ts` with 004's layout: `cluster:*` channels, `nodes:<id>` registry keys with a 30 s TTL
 * refreshed every 15 s). Same JSON wire protocol as the ws variant (`json-wire.ts`).
 *
 * Runs under the bun binary only (`bun dist/reference-server/bun-main.js`). It is compiled by the
 * project's tsc like the rest, so it types the few Bun APIs it uses itself instead of importing
 * Bun's type package.
 */
import { createRequire } from 'node:module';
import { createTokenVerifier, type TokenGrant } from './token.js';
import { securityPolicy } from './security.js';
import { WS_PATH } from './json-wire.js';
import { JsonHub, type HubSocket, type HubTransport, type Session } from './json-hub.js';
import { CLUSTER_MANAGER_LAYOUT, delay, settleWithin, type Log } from './redis-bus.js';
import type { ReferenceServerOptions } from './options.js';
import type { RunningServer } from './process-main.js';

// ---- the slice of Bun's API used here (https://bun.sh/docs/api/websockets) -----------------------

interface BunWebSocket<D> {
  data: D;
  readonly readyState: number;
  /** Strings go out as text frames. Returns bytes sent, -1 on backpressure, 0 if dropped. */
  send(data: string, compress?: boolean): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

interface BunServer {
  readonly port: number;
  /** Sends to every socket subscribed to `topic`. */
  publish(topic: string, data: string, compress?: boolean): number;
  upgrade(req: Request, options?: { data?: unknown }): boolean;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

interface BunServeOptions<D> {
  port: number;
  hostname: string;
  fetch(req: Request, server: BunServer): Response | undefined | Promise<Response | undefined>;
  error?(err: Error): Response;
  websocket: {
    maxPayloadLength: number;
    /** Seconds without traffic before Bun closes a socket (max 960). */
    idleTimeout: number;
    sendPings: boolean;
    perMessageDeflate: boolean;
    backpressureLimit?: number;
    closeOnBackpressureLimit?: boolean;
    open(ws: BunWebSocket<D>): void;
    message(ws: BunWebSocket<D>, message: string | Uint8Array): void;
    close(ws: BunWebSocket<D>, code: number, reason: string): void;
  };
}

interface BunRuntime {
  readonly version: string;
  serve<D>(options: BunServeOptions<D>): BunServer;
}

/** The Bun global, or undefined under Node. */
export function bunRuntime(): BunRuntime | undefined {
  return (globalThis as { Bun?: BunRuntime }).Bun;
}

// ---------------------------------------------------------------------------------------------------

const stderrLog: Log = (msg) => process.stderr.write(`[reference-server] ${msg}\n`);

interface SocketData {
  grant: TokenGrant;
  session: Session<string> | null;
}

export interface BunReferenceServer extends RunningServer {
  readonly hub: JsonHub<string>;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function tokenOf(req: Request, url: URL): string | null {
  const q = url.searchParams.get('token');
  if (q) return q;
  const h = req.headers.get('authorization');
  if (h !== null && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim() || null;
  return null;
}

export async function startBunServer(opts: ReferenceServerOptions, log: Log = stderrLog): Promise<BunReferenceServer> {
  const Bun = bunRuntime();
  if (Bun === undefined) throw new Error('the bun variant runs under Bun: bun dist/reference-server/bun-main.js');
  const { nodeId } = opts;
  const verify = await createTokenVerifier(opts.jwtSecret);
  // Origin, token, room authorization, rate and size limits, send-buffer limit (security.ts).
  const policy = securityPolicy(opts, verify);
  const require = createRequire(import.meta.url);
  const versions: Record<string, string> = {
    bun: Bun.version,
    ioredis: (require('ioredis/package.json') as { version: string }).version,
  };

  let server: BunServer | undefined;
  const transport: HubTransport<string> = {
    // Bun sends strings as text frames and Buffers as binary ones: frames stay strings here.
    frame: (text) => text,
    fromBus: (utf8) => utf8.toString('utf8'),
    // One publish to the room's topic: Bun writes the frame to every local member natively.
    fanOut: (room, _members, frame) => {
      server?.publish(room, frame);
    },
  };
  const hub = new JsonHub<string>({ ...opts, layout: CLUSTER_MANAGER_LAYOUT, policy }, transport, log);

  const handleOf = (ws: BunWebSocket<SocketData>): HubSocket<string> => ({
    send: (frame) => {
      ws.send(frame);
    },
    sendText: (text) => {
      ws.send(text);
    },
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    subscribe: (room) => ws.subscribe(room),
    unsubscribe: (room) => ws.unsubscribe(room),
  });

  const fetch = async (req: Request, srv: BunServer): Promise<Response | undefined> => {
    const url = new URL(req.url);
    switch (url.pathname) {
      case '/health': {
        const { status, body } = hub.health();
        return json(status, body);
      }
      case '/stats':
        return json(200, await hub.stats());
      case '/metrics':
        return new Response(await hub.registry.metrics(), { headers: { 'content-type': hub.registry.contentType } });
      case WS_PATH: {
        if (hub.draining) return json(503, { error: 'shutting_down' });
        if (req.headers.get('upgrade')?.toLowerCase() !== 'websocket') return json(426, { error: 'upgrade_required' });
        // CORS does not apply to WebSockets: a browser page on another origin is refused here.
        if (!policy.originAllowed(req.headers.get('origin'))) {
          hub.rejectedOrigin();
          return json(403, { error: 'origin_not_allowed' });
        }
        let grant: TokenGrant;
        try {
          grant = await policy.authenticate(tokenOf(req, url));
        } catch (err) {
          hub.rejectedUnauthorized();
          const code = (err as { code?: unknown }).code;
          return json(401, { error: 'unauthorized', reason: code === 'no_token' ? 'no token' : typeof code === 'string' ? code : String(err) });
        }
        const data: SocketData = { grant, session: null };
        return srv.upgrade(req, { data }) ? undefined : json(400, { error: 'upgrade_failed' });
      }
      default:
        return json(404, { error: 'not_found' });
    }
  };

  // Redis first: a client (e.g. one reconnecting through the load balancer) can only reach this
  // node once it can fan out across nodes.
  await hub.start();
  try {
    server = Bun.serve<SocketData>({
      port: opts.port,
      hostname: opts.host,
      fetch,
      error: (err) => json(500, { error: err.message }),
      websocket: {
        maxPayloadLength: policy.maxPayload,
        // --max-buffered-bytes: Bun's own limit (seed 004 sets backpressureLimit too); a socket
        // past it is closed (its peer sees 1006) instead of buffering without bound.
        ...(policy.maxBufferedBytes > 0 ? { backpressureLimit: policy.maxBufferedBytes, closeOnBackpressureLimit: true } : { backpressureLimit: 2 ** 31 - 1, closeOnBackpressureLimit: false }),
        // Bun pings idle sockets itself and closes those silent for idleTimeout: the socket.io
        // variant's ping interval + timeout, in seconds (Bun's limit is 960).
        idleTimeout: Math.min(960, Math.ceil((opts.pingInterval + opts.pingTimeout) / 1000)),
        sendPings: true,
        perMessageDeflate: false,
        open(ws) {
          ws.data.session = hub.open(handleOf(ws), ws.data.grant);
        },
        message(ws, message) {
          const s = ws.data.session;
          if (s === null || typeof message !== 'string') return; // text frames only
          hub.message(s, message);
        },
        close(ws, code, reason) {
          const s = ws.data.session;
          // Bun closes a socket that sent a frame over maxPayloadLength (the peer sees 1009).
          if (s !== null) hub.close(s, code === 1009 || /too big/i.test(reason));
        },
      },
    });
  } catch (err) {
    await hub.bus.close();
    const e = err as { code?: string; message?: string };
    throw new Error(e.code === 'EADDRINUSE' ? `listen EADDRINUSE: address already in use ${opts.host}:${opts.port}` : String(e.message ?? err));
  }
  const srv = server;

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (graceMs: number = opts.shutdownGraceMs): Promise<void> => {
    shutdownPromise ??= (async () => {
      hub.notifyShutdown();
      // Stop listening now (a load balancer fails over); open sockets stay for the grace period.
      void srv.stop(false);
      // The grace is for connected clients to hear `server_shutdown`; with none there is nothing to wait for.
      if (graceMs > 0 && hub.sessions.size > 0) await delay(graceMs);
      await hub.closeAll();
      await settleWithin(Promise.resolve(srv.stop(true)), 1000);
      await hub.bus.close();
    })();
    return shutdownPromise;
  };

  return { nodeId, port: srv.port, versions, hub, shutdown };
}
