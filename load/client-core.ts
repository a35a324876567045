/**
 * What the two lean wire-protocol clients share (load/sio-client.ts: Socket.IO over Engine.IO;
 * load/ws-client.ts: JSON text frames): the connection state machine (CONNECTING → CONNECTED →
 * CLOSED), the connect promise with its timer, the ack table, the queue of events that arrive
 * before `onEvent` is assigned, the once-only close report, and the `ws` listeners. Each protocol
 * keeps its own framing: how a frame is parsed (`onText`), how an event and an acked event are
 * written, and what an HTTP refusal of the upgrade means.
 *
 * The receive hot path is `ws` 'message' → the shared listener → `handleMessage` → the protocol's
 * `onText` → `onEvent`: no allocation here beyond the frame's string.
 *
 * Memory per connection: the `ws` socket plus one small object. No EventEmitter of our own (the
 * ws listeners are shared module-level functions, the socket points back to its client), no timers
 * except the connect timer and one per pending ack; the ack table is created lazily.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { RawData } from 'ws';

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

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
/** Events received before `onEvent` is first assigned are kept (at most this many) and replayed. */
export const MAX_EARLY_EVENTS = 256;

export const CONNECTING = 0;
export const CONNECTED = 1;
export const CLOSED = 2;

const CLIENT = Symbol('wireClient');
type TaggedSocket = WebSocket & { [CLIENT]: ClientCore };

interface PendingConnect {
  resolve: (c: never) => void;
  reject: (e: SioConnectError) => void;
  timer: NodeJS.Timeout;
}

interface PendingAck {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: Array<{ code?: unknown }> };
  if (typeof e?.code === 'string') return e.code;
  const first = e?.errors?.[0]?.code;
  return typeof first === 'string' ? first : undefined;
}

export abstract class ClientCore {
  protected readonly ws: WebSocket;
  protected state = CONNECTING;
  protected pending: PendingConnect | null = null;
  protected acks: Map<number, PendingAck> | null = null;
  protected nextAckId = 0;
  protected _onEvent: ((event: string, data: unknown) => void) | null = null;
  protected _onClose: ((code: number, reason: string) => void) | null = null;
  /** Events that arrived before onEvent was assigned ([] until then, null afterwards). */
  protected early: Array<[string, unknown]> | null = [];
  /** Set once closed and not yet reported to an onClose handler. */
  protected unreportedClose: [number, string] | null = null;
  /**
   * The load balancer's `X-Wsbench-Upstream` header on the upgrade response (the node's
   * `host:port`, cluster/nginx-config.ts), when wsbench's NGINX chose the node; else null.
   */
  upstream: string | null = null;
  /**
   * Whatever the client's user ties to it (the load worker: its ClientState). The handlers are
   * called with the client as `this`, so one shared handler serves every connection through it
   * instead of a closure per connection (issue 17: memory per connection).
   */
  owner: unknown = null;

  protected constructor(ws: WebSocket) {
    this.ws = ws;
  }

  /** What the connect waits for, in messages: `the upgrade completed` (JSON frames), `CONNECT ack` (Socket.IO). */
  protected abstract connectStage(): string;
  /** Parses one text frame of the protocol. */
  protected abstract onText(msg: string): void;
  /** The frame of an event expecting an ack with this id. */
  protected abstract ackRequestFrame(event: string, id: number, data: unknown): string;

  /**
   * Wires a freshly constructed client to its socket: the connect promise (settled once, by the
   * protocol's connect completion or a failure), its timer, and the shared listeners
   * (`withOpen`: the upgrade itself completes the connect).
   */
  protected static attach<C extends ClientCore>(client: C, resolve: (c: C) => void, reject: (e: SioConnectError) => void, timeoutMs: number, withOpen: boolean): void {
    const ws = client.ws as TaggedSocket;
    ws[CLIENT] = client;
    client.pending = {
      resolve: resolve as (c: never) => void,
      reject,
      timer: setTimeout(() => client.failConnect('timeout', `connect timed out after ${timeoutMs} ms`), timeoutMs),
    };
    if (withOpen) ws.on('open', onWsOpen);
    ws.on('message', onWsMessage);
    ws.on('close', onWsClose);
    ws.on('error', onWsError);
    ws.on('unexpected-response', onWsUnexpectedResponse);
    ws.on('upgrade', onWsUpgrade);
  }

  get connected(): boolean {
    return this.state === CONNECTED && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Called for every server event; `data` is the event's data. Events that arrive before the
   * first assignment (e.g. a `welcome` sent right after connecting) are buffered and replayed, in
   * order, in a microtask after the assignment.
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
   * Called once when the connection closes for any reason after connect succeeded. If it closed
   * before a handler was assigned, the handler is called in a microtask after assignment.
   */
  get onClose(): ((code: number, reason: string) => void) | null {
    return this._onClose;
  }
  set onClose(fn: ((code: number, reason: string) => void) | null) {
    this._onClose = fn;
    if (fn !== null && this.unreportedClose !== null) queueMicrotask(() => this.reportClose());
  }

  /** Sends an event with an ack id; resolves with the ack's data. Rejects on timeout or close. */
  emitWithAck(event: string, data: unknown, timeoutMs = DEFAULT_ACK_TIMEOUT_MS): Promise<unknown> {
    return this.requestWithAck((id) => this.ackRequestFrame(event, id, data), event, timeoutMs);
  }

  /**
   * Sends the frame `build(id)` carrying a fresh ack id; resolves with the ack's data (as
   * emitWithAck). For a profile's join: its own event and arguments, with the ack id in place.
   */
  requestWithAck(build: (id: number) => string, what: string, timeoutMs = DEFAULT_ACK_TIMEOUT_MS): Promise<unknown> {
    if (!this.connected) return Promise.reject(new Error('not connected'));
    const id = this.nextAckId++;
    const acks = (this.acks ??= new Map());
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        acks.delete(id);
        // Dropped when emptied, as settleAck does (unless the connection closed and a new table took its place).
        if (acks.size === 0 && this.acks === acks) this.acks = null;
        reject(new Error(`ack timeout after ${timeoutMs} ms for "${what}"`));
      }, timeoutMs);
      acks.set(id, { resolve, reject, timer });
      this.ws.send(build(id));
    });
  }

  /** Sends a raw text frame. Returns false (and sends nothing) when not connected. */
  sendRaw(text: string): boolean {
    if (!this.connected) return false;
    this.ws.send(text);
    return true;
  }

  // ---- for the protocols ----

  /** An event to hand to onEvent, or to queue (up to `cap`) until onEvent is assigned. */
  protected deliver(event: string, data: unknown, cap = MAX_EARLY_EVENTS): void {
    const early = this.early;
    if (early !== null) {
      if (early.length < cap) early.push([event, data]);
    } else this._onEvent?.(event, data);
  }

  /** Settles the pending ack `id` with `value` (unknown ids are ignored: timed out, or not ours). */
  protected settleAck(id: number, value: () => unknown): void {
    const acks = this.acks;
    const a = acks?.get(id);
    if (acks == null || a === undefined) return;
    acks.delete(id);
    // An empty table is dropped (a join's ack would otherwise leave one per connection for good).
    if (acks.size === 0) this.acks = null;
    clearTimeout(a.timer);
    a.resolve(value());
  }

  /** CONNECTING → CONNECTED: resolves the connect promise. */
  protected completeConnect(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    clearTimeout(p.timer);
    this.state = CONNECTED;
    slimListeners(this.ws);
    this.onConnected();
    (p.resolve as (c: this) => void)(this);
  }

  /** Hook: the connect completed (the JSON protocol drops the token from the socket's URL). */
  protected onConnected(): void {}

  /** CONNECTING → CLOSED: rejects the connect promise with SioConnectError(cause). */
  protected failConnect(cause: ConnectFailureCause, message: string, status?: number): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    clearTimeout(p.timer);
    this.state = CLOSED;
    this.onConnectFailed();
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    p.reject(new SioConnectError(cause, message, status));
  }

  /** Hook: a failed connect drops what the protocol kept for it (the Socket.IO token). */
  protected onConnectFailed(): void {}

  /** CONNECTED → CLOSED: fails pending acks, reports onClose once. */
  protected finish(code: number, reason: string): void {
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

  /** How an HTTP refusal of the upgrade fails the connect (the JSON protocol reads 401/403 as auth). */
  protected refuseUpgrade(status: number): void {
    this.failConnect('http_status', `unexpected HTTP status ${status} on WebSocket upgrade`, status);
  }

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
    fn.call(this, info[0], info[1]);
  }

  // ---- ws listener bodies (static: they touch protected state); @internal ----

  /** @internal The receive hot path: one text frame. */
  static handleMessage(client: ClientCore, data: RawData, isBinary: boolean): void {
    if (isBinary || client.state === CLOSED) return;
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    if (ClientCore.frameTap !== null) ClientCore.frameTap(text);
    client.onText(text);
  }

  /**
   * Sees every text frame any client receives while set (the worker keeps the first few, for
   * WSB_PROTOCOL_MISMATCH, then clears it: one null check per frame after that).
   */
  static frameTap: ((text: string) => void) | null = null;

  /** @internal */
  static handleClose(client: ClientCore, code: number, reason: Buffer): void {
    if (client.state === CONNECTING) client.failConnect('closed', `socket closed before ${client.connectStage()} (code ${code})`);
    else client.finish(code, reason.length > 0 ? reason.toString('utf8') : 'transport close');
  }

  /** @internal */
  static handleError(client: ClientCore, err: Error): void {
    if (client.state !== CONNECTING) return; // a 'close' follows; onClose reports it
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') client.failConnect('refused', err.message);
    else if (err.message === 'Opening handshake has timed out') client.failConnect('timeout', err.message);
    else client.failConnect('error', code ? `${code}: ${err.message}` : err.message);
  }

  /** @internal */
  static handleOpen(client: ClientCore): void {
    client.completeConnect();
  }

  /** @internal */
  static handleUnexpectedResponse(client: ClientCore, status: number): void {
    client.refuseUpgrade(status);
  }
}

/**
 * The listeners a connected socket keeps (message, close, error), as an object of V8's fast kind
 * whose prototype chain ends in null, like EventEmitter's own `_events`.
 */
class ConnectedListeners {
  message = onWsMessage;
  close = onWsClose;
  error = onWsError;
}
Object.setPrototypeOf(ConnectedListeners.prototype, null);

/**
 * Once connected, a socket needs only its message, close and error listeners: the upgrade's are
 * done. EventEmitter keeps listeners in a null-prototype object, which V8 makes a dictionary —
 * 256 B of hash table per socket at five listeners, against 40 B for three in-object fields
 * (issue 17: memory per connection). Only when our shared listeners are all the socket has (ws
 * adds none to itself; nobody else listened): anything else is left as it is.
 */
function slimListeners(ws: WebSocket): void {
  const e = ws as unknown as { _events?: Record<string, unknown>; _eventsCount?: number };
  const ev = e._events;
  if (ev === undefined || ev.message !== onWsMessage || ev.close !== onWsClose || ev.error !== onWsError) return;
  const count = e._eventsCount ?? 0;
  const upgradeOnes = (ev.open === onWsOpen ? 1 : 0) + (ev.upgrade === onWsUpgrade ? 1 : 0) + (ev['unexpected-response'] === onWsUnexpectedResponse ? 1 : 0);
  if (count !== 3 + upgradeOnes || Object.getOwnPropertySymbols(ev).length > 0) return;
  e._events = new ConnectedListeners() as unknown as Record<string, unknown>;
  e._eventsCount = 3;
}

// Shared ws listeners: `this` is the socket, which points back at its client.
function onWsOpen(this: WebSocket): void {
  ClientCore.handleOpen((this as TaggedSocket)[CLIENT]);
}
function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  ClientCore.handleMessage((this as TaggedSocket)[CLIENT], data, isBinary);
}
function onWsClose(this: WebSocket, code: number, reason: Buffer): void {
  ClientCore.handleClose((this as TaggedSocket)[CLIENT], code, reason);
}
function onWsError(this: WebSocket, err: Error): void {
  ClientCore.handleError((this as TaggedSocket)[CLIENT], err);
}
function onWsUpgrade(this: WebSocket, res: IncomingMessage): void {
  const h = res.headers['x-wsbench-upstream'];
  if (typeof h === 'string') (this as TaggedSocket)[CLIENT].upstream = h;
}
function onWsUnexpectedResponse(this: WebSocket, _req: ClientRequest, res: IncomingMessage): void {
  res.resume();
  ClientCore.handleUnexpectedResponse((this as TaggedSocket)[CLIENT], res.statusCode ?? 0);
}
