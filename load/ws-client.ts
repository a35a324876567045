/**
 * A lean client for the JSON wire protocol of the ws and Bun reference servers (see
 * reference-server/json-wire.ts), on `ws`, for holding thousands of connections per process.
 *
 *   client → server  {"type":"join","id":7,"data":{"room":"r"}}   (`id` asks for an ack)
 *   server → client  {"type":"ack","id":7,"data":{…}}  ·  {"type":"welcome"|"msg"|…,"data":{…}}
 *
 * The JWT travels in the query (`/ws?token=…`) and is checked at the upgrade: a 401/403 fails the
 * connect with cause 'auth'. `connect` resolves once the upgrade succeeded; the `welcome` event
 * arrives through `onEvent` (events that arrive before `onEvent` is assigned are buffered and
 * replayed, as SioClient does).
 *
 * Memory per connection: the `ws` socket plus one small object; shared module-level listeners, no
 * timers except the connect timer and one per pending ack.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { RawData } from 'ws';
import { SioConnectError, type ConnectFailureCause } from './sio-client.js';

export interface WsConnectOptions {
  /** Base http(s)/ws URL of the server or load balancer, e.g. http://127.0.0.1:8080 */
  url: string;
  token: string;
  /** Source address to bind (e.g. 127.0.3.1) so connections spread over source addresses. */
  localAddress?: string;
  /** Default 10000 ms: from socket open start to the completed upgrade. */
  connectTimeoutMs?: number;
  /** WebSocket endpoint path; default '/ws'. */
  path?: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_ACK_TIMEOUT_MS = 10_000;
/** Events received before `onEvent` is first assigned are kept (at most this many) and replayed. */
const MAX_EARLY_EVENTS = 256;
export const DEFAULT_WS_PATH = '/ws';

const CONNECTING = 0;
const CONNECTED = 1;
const CLOSED = 2;

const CLIENT = Symbol('wsClient');
type TaggedSocket = WebSocket & { [CLIENT]: WsClient };

interface PendingConnect {
  resolve: (c: WsClient) => void;
  reject: (e: SioConnectError) => void;
  timer: NodeJS.Timeout;
}

interface PendingAck {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** ws://host:port/ws?token=… from an http(s)/ws(s) base URL. */
export function jsonWsUrl(base: string, token: string, path = DEFAULT_WS_PATH): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`unsupported URL scheme ${u.protocol}`);
  u.pathname = path;
  u.search = '';
  u.searchParams.set('token', token);
  u.hash = '';
  return u.toString();
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: Array<{ code?: unknown }> };
  if (typeof e?.code === 'string') return e.code;
  const first = e?.errors?.[0]?.code;
  return typeof first === 'string' ? first : undefined;
}

export class WsClient {
  private readonly ws: TaggedSocket;
  private state = CONNECTING;
  private pending: PendingConnect | null = null;
  private acks: Map<number, PendingAck> | null = null;
  private nextAckId = 0;
  private _onEvent: ((event: string, data: unknown) => void) | null = null;
  private _onClose: ((code: number, reason: string) => void) | null = null;
  /** Events that arrived before onEvent was assigned ([] until then, null afterwards). */
  private early: Array<[string, unknown]> | null = [];
  /** Set once closed and not yet reported to an onClose handler. */
  private unreportedClose: [number, string] | null = null;

  private constructor(ws: TaggedSocket) {
    this.ws = ws;
  }

  /** Opens a connection; resolves once the upgrade succeeded, rejects with SioConnectError. */
  static connect(opts: WsConnectOptions): Promise<WsClient> {
    return new Promise<WsClient>((resolve, reject) => {
      const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      let ws: TaggedSocket;
      try {
        ws = new WebSocket(jsonWsUrl(opts.url, opts.token, opts.path), {
          localAddress: opts.localAddress,
          perMessageDeflate: false,
          handshakeTimeout: timeoutMs,
          skipUTF8Validation: true,
        }) as TaggedSocket;
      } catch (err) {
        reject(new SioConnectError('error', (err as Error).message));
        return;
      }
      const client = new WsClient(ws);
      ws[CLIENT] = client;
      client.pending = {
        resolve,
        reject,
        timer: setTimeout(() => client.failConnect('timeout', `connect timed out after ${timeoutMs} ms`), timeoutMs),
      };
      ws.on('open', onWsOpen);
      ws.on('message', onWsMessage);
      ws.on('close', onWsClose);
      ws.on('error', onWsError);
      ws.on('unexpected-response', onWsUnexpectedResponse);
    });
  }

  get connected(): boolean {
    return this.state === CONNECTED && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Called for every server event (every frame but acks); `data` is the frame's `data`. Events
   * that arrive before the first assignment (e.g. `welcome`, sent right after the upgrade) are
   * buffered and replayed, in order, in a microtask after the assignment.
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
   * Called once when the connection closes for any reason after connect succeeded, with the
   * WebSocket close code (1001 when the server shut down, 1009 after an oversized frame). If it
   * closed before a handler was assigned, the handler is called in a microtask after assignment.
   */
  get onClose(): ((code: number, reason: string) => void) | null {
    return this._onClose;
  }
  set onClose(fn: ((code: number, reason: string) => void) | null) {
    this._onClose = fn;
    if (fn !== null && this.unreportedClose !== null) queueMicrotask(() => this.reportClose());
  }

  /** Sends `{"type":event,"data":data}`. Returns false (and sends nothing) when not connected. */
  emit(event: string, data?: unknown): boolean {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(data === undefined ? { type: event } : { type: event, data }));
    return true;
  }

  /** Sends `{"type":event,"id":n,"data":data}`; resolves with the ack's data. Rejects on timeout/close. */
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
      this.ws.send(JSON.stringify(data === undefined ? { type: event, id } : { type: event, id, data }));
    });
  }

  /** Sends a raw text frame (tests use it for malformed and oversized frames). */
  sendRaw(text: string): boolean {
    if (!this.connected) return false;
    this.ws.send(text);
    return true;
  }

  /** Closes with 1000; onClose fires with reason 'client close'. */
  close(): void {
    if (this.state === CONNECTING) {
      this.failConnect('closed', 'closed by client before connect');
      return;
    }
    if (this.state === CLOSED) return;
    this.finish(1000, 'client close');
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
    let frame: { type?: unknown; id?: unknown; data?: unknown };
    try {
      frame = JSON.parse(msg) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') return;
    if (frame.type === 'ack') {
      const acks = this.acks;
      const a = typeof frame.id === 'number' ? acks?.get(frame.id) : undefined;
      if (acks == null || a === undefined) return;
      acks.delete(frame.id as number);
      clearTimeout(a.timer);
      a.resolve(frame.data);
      return;
    }
    if (this.early !== null) {
      if (this.early.length < MAX_EARLY_EVENTS) this.early.push([frame.type, frame.data]);
    } else this._onEvent?.(frame.type, frame.data);
  }

  /** @internal ws listener bodies (static: they may touch private state). */
  static handleOpen(client: WsClient): void {
    const p = client.pending;
    if (p === null) return;
    client.pending = null;
    clearTimeout(p.timer);
    client.state = CONNECTED;
    p.resolve(client);
  }

  /** @internal */
  static handleMessage(client: WsClient, data: RawData, isBinary: boolean): void {
    if (isBinary || client.state !== CONNECTED) return;
    client.onText(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
  }

  /** @internal */
  static handleClose(client: WsClient, code: number, reason: Buffer): void {
    if (client.state === CONNECTING) client.failConnect('closed', `socket closed before the upgrade completed (code ${code})`);
    else client.finish(code, reason.length > 0 ? reason.toString('utf8') : 'transport close');
  }

  /** @internal */
  static handleError(client: WsClient, err: Error): void {
    if (client.state !== CONNECTING) return; // a 'close' follows; onClose reports it
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') client.failConnect('refused', err.message);
    else if (err.message === 'Opening handshake has timed out') client.failConnect('timeout', err.message);
    else client.failConnect('error', code ? `${code}: ${err.message}` : err.message);
  }

  /** @internal */
  static handleUnexpectedResponse(client: WsClient, status: number): void {
    if (status === 401 || status === 403) client.failConnect('auth', `upgrade refused with HTTP ${status} (token rejected)`, status);
    else client.failConnect('http_status', `unexpected HTTP status ${status} on WebSocket upgrade`, status);
  }
}

// Shared ws listeners: `this` is the socket, which points back at its client.
function onWsOpen(this: WebSocket): void {
  WsClient.handleOpen((this as TaggedSocket)[CLIENT]);
}
function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  WsClient.handleMessage((this as TaggedSocket)[CLIENT], data, isBinary);
}
function onWsClose(this: WebSocket, code: number, reason: Buffer): void {
  WsClient.handleClose((this as TaggedSocket)[CLIENT], code, reason);
}
function onWsError(this: WebSocket, err: Error): void {
  WsClient.handleError((this as TaggedSocket)[CLIENT], err);
}
function onWsUnexpectedResponse(this: WebSocket, _req: ClientRequest, res: IncomingMessage): void {
  res.resume();
  WsClient.handleUnexpectedResponse((this as TaggedSocket)[CLIENT], res.statusCode ?? 0);
}
