/**
 * A lean Socket.IO client (Engine.IO protocol v4 + Socket.IO protocol v5, WebSocket transport
 * only, default namespace "/") on top of `ws`, for holding thousands of connections per process.
 *
 * Framing (one Engine.IO packet per WebSocket text frame):
 *   Engine.IO: `0{…}` open (server → client, first frame), `1` close, `2` ping (server) → `3` pong
 *              (client), `4…` message (carries one Socket.IO packet), `6` noop.
 *   Socket.IO (after the `4`): `<type>[<nsp>,][<ackId>][<json>]`, nsp omitted for "/":
 *              `40{"token":…}` CONNECT with auth → `40{"sid":…}` ack or `44{"message":…}`
 *              CONNECT_ERROR; `41` DISCONNECT; `42["event",data]` EVENT, `42<id>["event",data]`
 *              EVENT expecting an ack, answered by `43<id>[data]` ACK.
 * Binary packets (`45`/`46` and binary frames) are ignored. Server events that request an ack
 * are delivered without acking them.
 *
 * The connection state machine, the ack table, the early-event queue and the ws listeners are
 * load/client-core.ts, shared with the JSON-frame client; this file is the Socket.IO framing.
 *
 * Connection state recovery (Socket.IO 4.6+, only with the `recover` option; one extra object per
 * connection then, holding the session id and the last offset): the server's CONNECT ack carries
 * `{"sid":…,"pid":…}` and every event it broadcasts carries its offset as the last argument, as
 * `42["msg",{…},"1712345678901-0"]`. Like socket.io-client (`_pid`, `_lastOffset`), the client keeps
 * both and sends `40{"token":…,"pid":…,"offset":…}` when resuming. A server that recovers the
 * session answers with the same pid — and writes the packets the session missed BEFORE that ack
 * (socket.io's Socket constructor replays them; its CONNECT packet follows the middlewares), so the
 * events received between our CONNECT and its ack are exactly the replay: they are counted
 * (`replayed`) and delivered first, in order, as socket.io-client's receive buffer does.
 */
import WebSocket from 'ws';
import { internalized } from '../common/intern.js';
import { clientTls } from '../common/tls.js';
import { CLOSED, CONNECTED, CONNECTING, ClientCore, DEFAULT_CONNECT_TIMEOUT_MS, MAX_EARLY_EVENTS, SioConnectError } from './client-core.js';

export { SioConnectError, type ConnectFailureCause } from './client-core.js';

export interface SioConnectOptions {
  /** Base http(s)/ws URL of the server or load balancer, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The reference servers' JWT: the CONNECT packet's auth is `{token}` (see `auth`). */
  token?: string;
  /** The CONNECT packet's auth object (a profile's `auth.in: 'auth'`); with `token`, `{token}`; neither: `{}`. */
  auth?: Record<string, unknown>;
  /** Query parameters added to the Engine.IO URL (a profile's `auth.in: 'query'`). */
  query?: Record<string, string>;
  /** Headers of the upgrade request (a profile's `auth.in: 'header' | 'cookie'`). */
  headers?: Record<string, string>;
  /**
   * `onEvent(event, args)` gets the event's whole argument array (`[event, arg0, arg1, …]`)
   * instead of its first argument (a protocol profile reads `args[i]` itself: load/profile.ts).
   */
  fullArgs?: boolean;
  /** Source address to bind (e.g. 127.0.3.1) so connections spread over source addresses. */
  localAddress?: string;
  /** Default 10000 ms: from socket open start to Socket.IO CONNECT ack. */
  connectTimeoutMs?: number;
  /** Default '/socket.io/'. */
  path?: string;
  /**
   * Connection state recovery (off by default). `true`: keep this connection's session id and
   * the offset of the last event (see `session()`); a session from an earlier connection's
   * `session()`: also ask the server to resume it (its rooms, and the events it missed).
   */
  recover?: true | SioSession;
}

/** A Socket.IO session to resume: the CONNECT ack's `pid` and the offset of the last event received. */
export interface SioSession {
  pid: string;
  offset: string | undefined;
}

/** Recovery state of one connection (only with `recover`). */
interface Csr {
  /** Before the CONNECT ack: the pid asked for ('' none); after: the server's pid ('' none). */
  pid: string;
  offset: string | undefined;
  recovered: boolean;
  /** Events received before the CONNECT ack: the server's replay of what the session missed. */
  replayed: number;
}

/** ws://host:port/socket.io/?EIO=4&transport=websocket from an http(s)/ws(s) base URL. */
export function engineIoUrl(base: string, path = '/socket.io/', query?: Record<string, string>): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`unsupported URL scheme ${u.protocol}`);
  u.pathname = path;
  u.search = 'EIO=4&transport=websocket';
  if (query !== undefined) for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  u.hash = '';
  return u.toString();
}

// ws keeps the URL string of every socket: one shared string for all connections to the same
// server instead of one per connection.
let lastUrl: { base: string; path: string | undefined; url: string } | null = null;
function cachedEngineIoUrl(base: string, path?: string): string {
  if (lastUrl === null || lastUrl.base !== base || lastUrl.path !== path) lastUrl = { base, path, url: engineIoUrl(base, path) };
  return lastUrl.url;
}

export class SioClient extends ClientCore {
  /** The CONNECT packet's auth object, until sent. */
  private token: Record<string, unknown> | null;
  private fullArgs = false;
  private _sid = '';
  /** Connection state recovery, only with `recover` (null otherwise). */
  private csr: Csr | null = null;

  private constructor(ws: WebSocket, token: Record<string, unknown>) {
    super(ws);
    this.token = token;
  }

  /** Open a connection; resolves after the Socket.IO CONNECT ack, rejects with SioConnectError. */
  static connect(opts: SioConnectOptions): Promise<SioClient> {
    return new Promise<SioClient>((resolve, reject) => {
      const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      let ws: WebSocket;
      try {
        // No handshakeTimeout: the connect timer covers the handshake too, and ws would keep
        // a cleared timer object on every socket for good (~120 B per connection).
        ws = new WebSocket(opts.query === undefined ? cachedEngineIoUrl(opts.url, opts.path) : engineIoUrl(opts.url, opts.path, opts.query), {
          localAddress: opts.localAddress,
          ...(opts.headers ? { headers: opts.headers } : {}),
          perMessageDeflate: false,
          skipUTF8Validation: true,
          ...clientTls(),
        });
      } catch (err) {
        reject(new SioConnectError('error', (err as Error).message));
        return;
      }
      const client = new SioClient(ws, opts.auth ?? (opts.token !== undefined ? { token: opts.token } : {}));
      client.fullArgs = opts.fullArgs === true;
      if (opts.recover !== undefined) {
        const s = opts.recover === true ? null : opts.recover;
        client.csr = { pid: s?.pid ?? '', offset: s?.offset, recovered: false, replayed: 0 };
      }
      // The Socket.IO CONNECT ack completes the connect, not the upgrade.
      ClientCore.attach(client, resolve, reject, timeoutMs, false);
    });
  }

  /**
   * `ws` keeps the URL it dialled as a string of its own per socket (it re-serializes it); once
   * connected, the socket keeps the one string shared by every connection to the same endpoint
   * instead (~80 B a connection, issue 17).
   */
  protected onConnected(): void {
    const ws = this.ws as unknown as { _url?: unknown };
    if (lastUrl !== null && ws._url === lastUrl.url) ws._url = lastUrl.url;
  }

  /** Socket.IO session id (from the CONNECT ack). */
  get sid(): string {
    return this._sid;
  }

  /**
   * With `recover`: this connection's session, to pass as `recover` to a later connection (also
   * after this one closed); null without `recover` or when the server gave no pid (recovery off).
   */
  session(): SioSession | null {
    const c = this.csr;
    return c === null || c.pid === '' || this.state === CONNECTING ? null : { pid: c.pid, offset: c.offset };
  }

  /** Whether the server resumed the session given as `recover` (socket.io-client's `socket.recovered`). */
  get recovered(): boolean {
    return this.csr?.recovered ?? false;
  }

  /** Events the server replayed when it resumed the session: those received before the CONNECT ack. */
  get replayed(): number {
    return this.csr?.replayed ?? 0;
  }

  /** Send an event (`42["event",data]`). Returns false (and sends nothing) when not connected. */
  emit(event: string, data?: unknown): boolean {
    if (!this.connected) return false;
    this.ws.send(data === undefined ? `42${JSON.stringify([event])}` : `42${JSON.stringify([event, data])}`);
    return true;
  }

  /** Send a Socket.IO DISCONNECT (`41`), then close the WebSocket. onClose fires with reason 'io client disconnect'. */
  close(): void {
    if (this.state === CONNECTING) {
      this.failConnect('closed', 'closed by client before connect');
      return;
    }
    if (this.state === CLOSED) return;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send('41');
    this.finish(1000, 'io client disconnect');
    this.ws.close(1000);
  }

  // ---- the Socket.IO framing ----

  protected connectStage(): string {
    return 'CONNECT ack';
  }

  protected ackRequestFrame(event: string, id: number, data: unknown): string {
    return `42${id}${JSON.stringify(data === undefined ? [event] : [event, data])}`;
  }

  protected onConnectFailed(): void {
    this.token = null;
  }

  protected onText(msg: string): void {
    switch (msg.charCodeAt(0)) {
      case 52 /* '4' message */:
        this.onSocketIoPacket(msg);
        return;
      case 50 /* '2' ping */:
        this.ws.send(msg.length === 1 ? '3' : `3${msg.slice(1)}`);
        return;
      case 48 /* '0' open */:
        if (this.state === CONNECTING && this.token !== null) {
          const c = this.csr;
          // socket.io-client: `{...auth, pid, offset}` when it holds a session (offset may be absent).
          this.ws.send(`40${JSON.stringify(c !== null && c.pid !== '' ? { ...this.token, pid: c.pid, offset: c.offset } : this.token)}`);
          this.token = null;
        }
        return;
      case 49 /* '1' close */:
        if (this.state === CONNECTING) this.failConnect('closed', 'server closed the Engine.IO session before CONNECT ack');
        else {
          this.finish(1000, 'transport close');
          this.ws.close(1000);
        }
        return;
      default:
        return; // '3' pong, '6' noop, '5' upgrade: nothing to do
    }
  }

  /** `msg` is a whole Engine.IO message frame: '4' followed by the Socket.IO packet. */
  private onSocketIoPacket(msg: string): void {
    // The receive hot path: a plain one-argument EVENT, read without the generic walk (no
    // recovery offsets to track; anything else takes the general path below).
    if (this.csr === null && this.state === CONNECTED) {
      const args = simpleEventArgs(msg);
      if (args !== null) {
        this.deliver(args[0], this.fullArgs ? args : args[1]);
        return;
      }
    }
    const type = msg.charCodeAt(1) - 48;
    if (type === 5 || type === 6 || type < 0 || type > 6) return; // binary packets: ignored
    let i = 2;
    if (msg.charCodeAt(i) === 47 /* '/' */) {
      const comma = msg.indexOf(',', i);
      const nsp = comma < 0 ? msg.slice(i) : msg.slice(i, comma);
      if (nsp !== '/') return; // other namespaces: not ours
      i = comma < 0 ? msg.length : comma + 1;
    }
    let id = -1;
    for (let c = msg.charCodeAt(i); c >= 48 && c <= 57; c = msg.charCodeAt(++i)) {
      id = (id < 0 ? 0 : id * 10) + (c - 48);
    }
    const payload = i < msg.length ? msg.slice(i) : '';

    switch (type) {
      case 2 /* EVENT */: {
        const csr = this.csr;
        if (this.state !== CONNECTED && (csr === null || this.state !== CONNECTING)) return;
        const args = parseJson(payload);
        if (!Array.isArray(args) || typeof args[0] !== 'string') return;
        const event = args[0];
        const data: unknown = this.fullArgs ? args : args[1];
        if (csr !== null && csr.pid !== '') {
          // The offset rides as the last argument (socket.io-client keeps it as `_lastOffset`).
          const last: unknown = args[args.length - 1];
          if (args.length > 1 && typeof last === 'string') csr.offset = last;
          if (this.state === CONNECTING) {
            // Before the CONNECT ack: the replay of the packets the session missed (all of them, uncapped).
            csr.replayed++;
            (this.early ??= []).push([event, data]);
            return;
          }
        } else if (this.state !== CONNECTED) return;
        // (A replay ahead of them in the queue does not count against the cap.)
        this.deliver(event, data, csr === null ? MAX_EARLY_EVENTS : MAX_EARLY_EVENTS + csr.replayed);
        return;
      }
      case 3 /* ACK */:
        this.settleAck(id, () => {
          const args = parseJson(payload);
          return Array.isArray(args) ? args[0] : undefined;
        });
        return;
      case 0 /* CONNECT */: {
        if (this.state !== CONNECTING || this.pending === null) return;
        const body = parseJson(payload) as { sid?: unknown; pid?: unknown } | undefined;
        this._sid = typeof body?.sid === 'string' ? body.sid : '';
        const csr = this.csr;
        if (csr !== null) {
          const pid = typeof body?.pid === 'string' ? body.pid : '';
          // socket.io-client: `recovered = pid && this._pid === pid`.
          csr.recovered = pid !== '' && pid === csr.pid;
          csr.pid = pid;
        }
        this.completeConnect();
        return;
      }
      case 4 /* CONNECT_ERROR */: {
        const body = parseJson(payload) as { message?: unknown } | undefined;
        const message = typeof body?.message === 'string' ? body.message : 'connect error';
        if (this.state === CONNECTING) this.failConnect('auth', message);
        else {
          this.finish(1000, `connect error: ${message}`);
          this.ws.close(1000);
        }
        return;
      }
      case 1 /* DISCONNECT */:
        if (this.state === CONNECTING) this.failConnect('closed', 'server disconnected before CONNECT ack');
        else {
          this.finish(1000, 'io server disconnect');
          this.ws.close(1000);
        }
        return;
    }
  }
}

/** After this many frames the fast path could not read, it is left off (e.g. a profile whose events carry two arguments). */
const FAST_MISS_LIMIT = 64;
let fastMisses = 0;
let lastEvent = 'msg';

/**
 * The arguments `[event, arg]` of `msg` when it is exactly `42["<event>",<one JSON value>]` — an
 * EVENT with no namespace, no ack id, one argument, and an event name without escapes — or null
 * when it is anything else (the caller then takes the general path, which may still read it).
 *
 * Why: JSON.parse of the whole `["msg",{…}]` array costs ≈ 0.2 µs more per frame than of the
 * `{…}` inside it (`npm run bench`, issue 17). The result is what the general path yields:
 * `JSON.parse('["e",X]')` is `["e", JSON.parse(X)]` for every X that parses alone, and an X that
 * does not (two arguments, a stray bracket, nothing) is left to the general path. The event name
 * is the text between the quotes, which is its value when it holds no backslash and no control
 * character (both send the frame to the general path).
 */
export function simpleEventArgs(msg: string): [string, unknown] | null {
  const end = msg.length - 1;
  // '4' '2' '[' '"' … ']'
  if (fastMisses >= FAST_MISS_LIMIT || msg.charCodeAt(0) !== 52 || msg.charCodeAt(1) !== 50 || msg.charCodeAt(2) !== 91 || msg.charCodeAt(3) !== 34 || msg.charCodeAt(end) !== 93) return null;
  // The last event name read (most frames carry the same one): reused when the frame holds it,
  // so a frame allocates no name and the profile's `event === name` is a pointer compare.
  let event: string | null = lastEvent;
  let q = 4 + event.length;
  if (msg.charCodeAt(q) !== 34 || !msg.startsWith(event, 4)) {
    q = 4;
    for (let c = msg.charCodeAt(q); c !== 34; c = msg.charCodeAt(++q)) {
      if (c === 92 /* backslash */ || c < 32 || q >= end) return null; // q >= end: no closing quote
    }
    event = null;
  }
  if (msg.charCodeAt(q + 1) !== 44 /* ',' */ || q + 2 >= end) return null;
  let arg: unknown;
  try {
    arg = JSON.parse(msg.slice(q + 2, end));
  } catch {
    fastMisses++;
    return null;
  }
  if (event === null) event = lastEvent = internalized(msg.slice(4, q));
  return [event, arg];
}

/** Test hook: the fast path on again (simpleEventArgs). */
export function resetSimpleEventMisses(): void {
  fastMisses = 0;
}

function parseJson(s: string): unknown {
  if (s.length === 0) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
