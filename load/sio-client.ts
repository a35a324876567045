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
 * Memory per connection: the `ws` socket plus one small object. No EventEmitter of our own (the
 * ws listeners are shared module-level functions, the socket points back to its client), no
 * timers except the connect timer and one per pending ack; the ack table is created lazily.
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
import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { RawData } from 'ws';

export interface SioConnectOptions {
  /** Base http(s)/ws URL of the server or load balancer, e.g. http://127.0.0.1:8080 */
  url: string;
  token: string;
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

export type ConnectFailureCause = 'refused' | 'timeout' | 'http_status' | 'auth' | 'closed' | 'error';

export class SioConnectError extends Error {
  /** Why the connection attempt failed (shadows Error#cause on purpose). */
  cause: ConnectFailureCause;
  /** HTTP status of the rejected upgrade, for cause 'http_status'. */
  status?: number;
  constructor(cause: ConnectFailureCause, message: string, status?: number) {
    super(message);
    this.name = 'SioConnectError';
    this.cause = cause;
    if (status !== undefined) this.status = status;
  }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_ACK_TIMEOUT_MS = 10_000;
/** Events received before `onEvent` is first assigned are kept (at most this many) and replayed. */
const MAX_EARLY_EVENTS = 256;

const CONNECTING = 0;
const CONNECTED = 1;
const CLOSED = 2;

const CLIENT = Symbol('sioClient');
type TaggedSocket = WebSocket & { [CLIENT]: SioClient };

interface PendingConnect {
  resolve: (c: SioClient) => void;
  reject: (e: SioConnectError) => void;
  timer: NodeJS.Timeout;
}

interface PendingAck {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** ws://host:port/socket.io/?EIO=4&transport=websocket from an http(s)/ws(s) base URL. */
export function engineIoUrl(base: string, path = '/socket.io/'): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`unsupported URL scheme ${u.protocol}`);
  u.pathname = path;
  u.search = 'EIO=4&transport=websocket';
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

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: Array<{ code?: unknown }> };
  if (typeof e?.code === 'string') return e.code;
  const first = e?.errors?.[0]?.code;
  return typeof first === 'string' ? first : undefined;
}

export class SioClient {
  private readonly ws: TaggedSocket;
  private token: string | null;
  private state = CONNECTING;
  private _sid = '';
  private pending: PendingConnect | null = null;
  private acks: Map<number, PendingAck> | null = null;
  private nextAckId = 0;
  private _onEvent: ((event: string, data: unknown) => void) | null = null;
  private _onClose: ((code: number, reason: string) => void) | null = null;
  /** Events that arrived before onEvent was assigned ([] until then, null afterwards). */
  private early: Array<[string, unknown]> | null = [];
  /** Set once closed and not yet reported to an onClose handler. */
  private unreportedClose: [number, string] | null = null;
  /** Connection state recovery, only with `recover` (null otherwise). */
  private csr: Csr | null = null;

  private constructor(ws: TaggedSocket, token: string) {
    this.ws = ws;
    this.token = token;
  }

  /** Open a connection; resolves after the Socket.IO CONNECT ack, rejects with SioConnectError. */
  static connect(opts: SioConnectOptions): Promise<SioClient> {
    return new Promise<SioClient>((resolve, reject) => {
      const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      let ws: TaggedSocket;
      try {
        // No handshakeTimeout: the connect timer below covers the handshake too, and ws would keep
        // a cleared timer object on every socket for good (~120 B per connection).
        ws = new WebSocket(cachedEngineIoUrl(opts.url, opts.path), {
          localAddress: opts.localAddress,
          perMessageDeflate: false,
          skipUTF8Validation: true,
        }) as TaggedSocket;
      } catch (err) {
        reject(new SioConnectError('error', (err as Error).message));
        return;
      }
      const client = new SioClient(ws, opts.token);
      if (opts.recover !== undefined) {
        const s = opts.recover === true ? null : opts.recover;
        client.csr = { pid: s?.pid ?? '', offset: s?.offset, recovered: false, replayed: 0 };
      }
      ws[CLIENT] = client;
      client.pending = {
        resolve,
        reject,
        timer: setTimeout(() => client.failConnect('timeout', `connect timed out after ${timeoutMs} ms`), timeoutMs),
      };
      ws.on('message', onWsMessage);
      ws.on('close', onWsClose);
      ws.on('error', onWsError);
      ws.on('unexpected-response', onWsUnexpectedResponse);
    });
  }

  /** Socket.IO session id (from the CONNECT ack). */
  get sid(): string {
    return this._sid;
  }

  get connected(): boolean {
    return this.state === CONNECTED && this.ws.readyState === WebSocket.OPEN;
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

  /**
   * Called for every server event; `data` is the first argument (undefined if none). Events that
   * arrive between the CONNECT ack and the first assignment (e.g. a `welcome` emitted on
   * connection) are buffered and replayed, in order, in a microtask after the assignment.
   */
  get onEvent(): ((event: string, data: unknown) => void) | null {
    return this._onEvent;
  }
  set onEvent(fn: ((event: string, data: unknown) => void) | null) {
    this._onEvent = fn;
    if (fn !== null && this.early !== null) {
      if (this.early.length === 0) this.early = null;
      else queueMicrotask(() => this.flushEarly());
    }
  }

  /**
   * Called once when the connection closes for any reason after connect succeeded (server
   * disconnect, transport close, or close()). If it closed before a handler was assigned, the
   * handler is called in a microtask after assignment.
   */
  get onClose(): ((code: number, reason: string) => void) | null {
    return this._onClose;
  }
  set onClose(fn: ((code: number, reason: string) => void) | null) {
    this._onClose = fn;
    if (fn !== null && this.unreportedClose !== null) {
      queueMicrotask(() => this.reportClose());
    }
  }

  /** Send an event (`42["event",data]`). Returns false (and sends nothing) when not connected. */
  emit(event: string, data?: unknown): boolean {
    if (!this.connected) return false;
    this.ws.send(data === undefined ? `42${JSON.stringify([event])}` : `42${JSON.stringify([event, data])}`);
    return true;
  }

  /** Send an event with an ack id; resolves with the ack's first argument. Rejects on timeout/close. */
  emitWithAck(event: string, data: unknown, timeoutMs = DEFAULT_ACK_TIMEOUT_MS): Promise<unknown> {
    if (!this.connected) return Promise.reject(new Error('not connected'));
    const id = this.nextAckId++;
    const acks = (this.acks ??= new Map());
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        acks.delete(id);
        reject(new Error(`ack timeout after ${timeoutMs} ms for "${event}"`));
      }, timeoutMs);
      acks.set(id, { resolve, reject, timer });
      this.ws.send(`42${id}${JSON.stringify(data === undefined ? [event] : [event, data])}`);
    });
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

  // ---- internals ----

  private flushEarly(): void {
    const queue = this.early;
    this.early = null;
    if (queue === null) return;
    for (const [event, data] of queue) this._onEvent?.(event, data);
  }

  private reportClose(): void {
    const info = this.unreportedClose;
    const fn = this._onClose;
    if (info === null || fn === null) return;
    this.unreportedClose = null;
    fn(info[0], info[1]);
  }

  private failConnect(cause: ConnectFailureCause, message: string, status?: number): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    clearTimeout(p.timer);
    this.state = CLOSED;
    this.token = null;
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    p.reject(new SioConnectError(cause, message, status));
  }

  /** Transition to CLOSED after a successful connect: fail pending acks, report onClose once. */
  private finish(code: number, reason: string): void {
    if (this.state !== CONNECTED) return;
    this.state = CLOSED;
    const acks = this.acks;
    if (acks !== null) {
      this.acks = null;
      for (const a of acks.values()) {
        clearTimeout(a.timer);
        a.reject(new Error(`connection closed (${reason})`));
      }
    }
    this.unreportedClose = [code, reason];
    this.reportClose();
  }

  private onText(msg: string): void {
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
          this.ws.send(`40${JSON.stringify(c !== null && c.pid !== '' ? { token: this.token, pid: c.pid, offset: c.offset } : { token: this.token })}`);
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
        const data: unknown = args[1];
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
        const handler = this._onEvent;
        if (this.early !== null) {
          // (A replay ahead of them in the queue does not count against the cap.)
          if (this.early.length < MAX_EARLY_EVENTS + (csr?.replayed ?? 0)) this.early.push([event, data]);
        } else if (handler !== null) handler(event, data);
        return;
      }
      case 3 /* ACK */: {
        const acks = this.acks;
        const a = acks?.get(id);
        if (acks == null || a === undefined) return;
        acks.delete(id);
        clearTimeout(a.timer);
        const args = parseJson(payload);
        a.resolve(Array.isArray(args) ? args[0] : undefined);
        return;
      }
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
        const p = this.pending;
        this.pending = null;
        clearTimeout(p.timer);
        this.state = CONNECTED;
        p.resolve(this);
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

  /** @internal ws listener bodies (static: they may touch private state). */
  static handleMessage(client: SioClient, data: RawData, isBinary: boolean): void {
    if (isBinary || client.state === CLOSED) return;
    const msg = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    client.onText(msg);
  }

  /** @internal */
  static handleClose(client: SioClient, code: number, reason: Buffer): void {
    if (client.state === CONNECTING) {
      client.failConnect('closed', `socket closed before CONNECT ack (code ${code})`);
    } else {
      client.finish(code, reason.length > 0 ? reason.toString('utf8') : 'transport close');
    }
  }

  /** @internal */
  static handleError(client: SioClient, err: Error): void {
    if (client.state !== CONNECTING) return; // a 'close' follows; onClose reports it
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') client.failConnect('refused', err.message);
    else if (err.message === 'Opening handshake has timed out') client.failConnect('timeout', err.message);
    else client.failConnect('error', code ? `${code}: ${err.message}` : err.message);
  }

  /** @internal */
  static handleUnexpectedResponse(client: SioClient, status: number): void {
    client.failConnect('http_status', `unexpected HTTP status ${status} on WebSocket upgrade`, status);
  }
}

function parseJson(s: string): unknown {
  if (s.length === 0) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

// Shared ws listeners: `this` is the socket, which points back at its client.
function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  SioClient.handleMessage((this as TaggedSocket)[CLIENT], data, isBinary);
}
function onWsClose(this: WebSocket, code: number, reason: Buffer): void {
  SioClient.handleClose((this as TaggedSocket)[CLIENT], code, reason);
}
function onWsError(this: WebSocket, err: Error): void {
  SioClient.handleError((this as TaggedSocket)[CLIENT], err);
}
function onWsUnexpectedResponse(
  this: WebSocket,
  _req: ClientRequest,
  res: IncomingMessage,
): void {
  res.resume();
  SioClient.handleUnexpectedResponse((this as TaggedSocket)[CLIENT], res.statusCode ?? 0);
}
