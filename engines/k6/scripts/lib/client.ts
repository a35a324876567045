/**
 * One client connection of a wsbench k6 script: a k6 WebSocket (`k6/websockets`; wsbench's
 * bundler rewrites the import to `k6/experimental/websockets` for a k6 older than v1.6) speaking
 * the reference server's protocol (lib/wire.ts). Many per VU: the module runs on k6's global event
 * loop, so a VU holds hundreds of them.
 *
 * "Connected" means the server's `welcome {nodeId}` arrived (after the Socket.IO CONNECT ack for
 * socketio): `connectMs` is the time from `new WebSocket` to it, in whole milliseconds (k6 has
 * only `Date.now()`).
 */
import { WebSocket } from 'k6/websockets';
import { clearTimeout, setTimeout } from 'k6/timers';
import { connectUrl, decodeFrame, encodeDisconnect, encodeEvent, type Protocol } from './wire';

export interface ClientHandlers {
  onWelcome?(nodeId: string, connectMs: number): void;
  onEvent?(event: string, data: unknown): void;
  /** The connection failed before `welcome`: `cause` is `error`, `auth` (connect_error) or `closed`. */
  onConnectFailed?(cause: 'error' | 'auth' | 'closed' | 'timeout', message: string): void;
  /** An established connection (after `welcome`) closed, by us (`byUs`) or not. */
  onClosed?(byUs: boolean): void;
}

const ACK_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

export class WsbClient {
  private readonly ws: WebSocket;
  private readonly startedAt = Date.now();
  private welcomed = false;
  private closedByUs = false;
  private done = false;
  private nextAck = 0;
  private readonly acks = new Map<number, { cb: (reply: unknown) => void; timer: number }>();
  private connectTimer: number | null;
  nodeId = '';

  constructor(
    private readonly protocol: Protocol,
    baseUrl: string,
    private readonly token: string,
    private readonly handlers: ClientHandlers,
  ) {
    // The JSON variant authenticates at the upgrade (token in the URL); Socket.IO in its CONNECT packet.
    this.ws = new WebSocket(connectUrl(protocol, baseUrl, token));
    this.ws.onmessage = (e) => {
      if (e && typeof e.data === 'string') this.onFrame(e.data);
    };
    this.ws.onerror = (e) => this.fail('error', e ? String(e.error) : 'websocket error');
    this.ws.onclose = () => this.onWsClose();
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (!this.welcomed) {
        this.fail('timeout', `no welcome after ${CONNECT_TIMEOUT_MS} ms`);
        this.closeSocket();
      }
    }, CONNECT_TIMEOUT_MS);
  }

  /** Open and welcomed. In k6 v0.48 `readyState` is a wrapped Go value: compare through Number(). */
  get connected(): boolean {
    return this.welcomed && !this.done && Number(this.ws.readyState) === 1;
  }

  /** Sends an event; false when the connection is not open. */
  emit(event: string, data: unknown): boolean {
    if (!this.connected) return false;
    this.ws.send(encodeEvent(this.protocol, event, data));
    return true;
  }

  /** Sends an event asking for an ack; `cb` gets the reply, or `{ok:false,error:'timeout'|'closed'}`. */
  request(event: string, data: unknown, cb: (reply: unknown) => void): boolean {
    if (!this.connected) return false;
    const id = this.nextAck++;
    const timer = setTimeout(() => {
      this.acks.delete(id);
      cb({ ok: false, error: 'timeout' });
    }, ACK_TIMEOUT_MS);
    this.acks.set(id, { cb, timer });
    this.ws.send(encodeEvent(this.protocol, event, data, id));
    return true;
  }

  /** Closes the connection (politely for Socket.IO); `onClosed(true)` follows for a welcomed one. */
  close(): void {
    this.closedByUs = true;
    this.closeSocket();
  }

  private closeSocket(): void {
    const state = Number(this.ws.readyState);
    if (state === 1) {
      const bye = encodeDisconnect(this.protocol);
      if (bye) this.ws.send(bye);
    }
    if (state === 0 || state === 1) this.ws.close();
    else this.onWsClose();
  }

  private onFrame(frame: string): void {
    const m = decodeFrame(this.protocol, frame, this.token);
    switch (m.kind) {
      case 'open':
      case 'ping':
        if (Number(this.ws.readyState) === 1) this.ws.send(m.reply);
        return;
      case 'connect_error':
        this.fail('auth', m.message);
        this.closeSocket();
        return;
      case 'event':
        if (m.event === 'welcome' && !this.welcomed) {
          this.welcomed = true;
          if (this.connectTimer !== null) clearTimeout(this.connectTimer);
          this.connectTimer = null;
          const d = m.data as { nodeId?: unknown } | undefined;
          this.nodeId = typeof d?.nodeId === 'string' ? d.nodeId : 'unknown';
          this.handlers.onWelcome?.(this.nodeId, Date.now() - this.startedAt);
          return;
        }
        this.handlers.onEvent?.(m.event, m.data);
        return;
      case 'ack': {
        const a = this.acks.get(m.id);
        if (!a) return;
        this.acks.delete(m.id);
        clearTimeout(a.timer);
        a.cb(m.data);
        return;
      }
      case 'disconnect':
        this.closeSocket();
        return;
      default:
        return;
    }
  }

  private fail(cause: 'error' | 'auth' | 'closed' | 'timeout', message: string): void {
    if (this.welcomed || this.done) return;
    this.done = true;
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.handlers.onConnectFailed?.(cause, message);
  }

  private onWsClose(): void {
    for (const [id, a] of this.acks) {
      clearTimeout(a.timer);
      this.acks.delete(id);
      a.cb({ ok: false, error: 'closed' });
    }
    if (!this.welcomed) {
      this.fail('closed', 'closed before welcome');
      return;
    }
    if (this.done) return;
    this.done = true;
    this.handlers.onClosed?.(this.closedByUs);
  }
}
