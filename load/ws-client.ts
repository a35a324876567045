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
 * The connection state machine, the ack table, the early-event queue and the ws listeners are
 * load/client-core.ts, shared with the Socket.IO client; this file is the JSON framing.
 */
import WebSocket from 'ws';
import { clientTls } from '../common/tls.js';
import { CONNECTED, CONNECTING, CLOSED, ClientCore, DEFAULT_CONNECT_TIMEOUT_MS, SioConnectError } from './client-core.js';

export interface WsConnectOptions {
  /** Base http(s)/ws URL of the server or load balancer, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The reference servers' JWT, as `?token=` (absent: no token in the query). */
  token?: string;
  /** Source address to bind (e.g. 127.0.3.1) so connections spread over source addresses. */
  localAddress?: string;
  /** Default 10000 ms: from socket open start to the completed upgrade. */
  connectTimeoutMs?: number;
  /** WebSocket endpoint path; default '/ws'. */
  path?: string;
  /** Query parameters of the upgrade request (a profile's `auth.in: 'query'`). */
  query?: Record<string, string>;
  /** Headers of the upgrade request (a profile's `auth.in: 'header' | 'cookie'`). */
  headers?: Record<string, string>;
  /**
   * Every JSON object frame goes to `onEvent` whole, as `('', frame)`, acks included (a protocol
   * profile matches frames itself: load/profile.ts). Default false: the reference framing.
   */
  rawFrames?: boolean;
}

export const DEFAULT_WS_PATH = '/ws';

/** ws://host:port/ws?token=… from an http(s)/ws(s) base URL. */
export function jsonWsUrl(base: string, token: string | undefined, path = DEFAULT_WS_PATH, query?: Record<string, string>): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`unsupported URL scheme ${u.protocol}`);
  u.pathname = path;
  u.search = '';
  if (token !== undefined) u.searchParams.set('token', token);
  if (query !== undefined) for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  u.hash = '';
  return u.toString();
}

let lastBase = '';
/** One string per endpoint URL (ws://host:port/path) instead of one per connection. */
function sharedBase(base: string): string {
  if (base !== lastBase) lastBase = base;
  return lastBase;
}

export class WsClient extends ClientCore {
  private raw = false;

  private constructor(ws: WebSocket) {
    super(ws);
  }

  /** Opens a connection; resolves once the upgrade succeeded, rejects with SioConnectError. */
  static connect(opts: WsConnectOptions): Promise<WsClient> {
    return new Promise<WsClient>((resolve, reject) => {
      const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      let ws: WebSocket;
      try {
        ws = new WebSocket(jsonWsUrl(opts.url, opts.token, opts.path, opts.query), {
          localAddress: opts.localAddress,
          ...(opts.headers ? { headers: opts.headers } : {}),
          perMessageDeflate: false,
          handshakeTimeout: timeoutMs,
          skipUTF8Validation: true,
          ...clientTls(),
        });
      } catch (err) {
        reject(new SioConnectError('error', (err as Error).message));
        return;
      }
      // The upgrade completes the connect ('open').
      const client = new WsClient(ws);
      client.raw = opts.rawFrames === true;
      ClientCore.attach(client, resolve, reject, timeoutMs, true);
    });
  }

  /** Sends `{"type":event,"data":data}`. Returns false (and sends nothing) when not connected. */
  emit(event: string, data?: unknown): boolean {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(data === undefined ? { type: event } : { type: event, data }));
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

  // ---- the JSON framing ----

  protected connectStage(): string {
    return 'the upgrade completed';
  }

  protected ackRequestFrame(event: string, id: number, data: unknown): string {
    return JSON.stringify(data === undefined ? { type: event, id } : { type: event, id, data });
  }

  /**
   * `ws` keeps the URL it dialled for the socket's life, and the JWT travels in its query: a
   * token-sized string (~300 B) per connection. Once connected, the socket keeps the URL without
   * the query instead, one string shared by every connection to the same endpoint.
   */
  protected onConnected(): void {
    const ws = this.ws as unknown as { _url?: unknown };
    if (typeof ws._url !== 'string') return;
    const q = ws._url.indexOf('?');
    if (q >= 0) ws._url = sharedBase(ws._url.slice(0, q));
  }

  /** A 401/403 on the upgrade is the token refused. */
  protected refuseUpgrade(status: number): void {
    if (status === 401 || status === 403) this.failConnect('auth', `upgrade refused with HTTP ${status} (token rejected)`, status);
    else super.refuseUpgrade(status);
  }

  protected onText(msg: string): void {
    if (this.state !== CONNECTED) return;
    let frame: { type?: unknown; id?: unknown; data?: unknown };
    try {
      frame = JSON.parse(msg) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    if (this.raw) {
      // An ack of our own emitWithAck (the reference `ping`) settles it; every other frame is the profile's.
      if (frame.type === 'ack' && typeof frame.id === 'number' && this.acks?.has(frame.id) === true) {
        this.settleAck(frame.id, () => frame.data);
        return;
      }
      this.deliver('', frame);
      return;
    }
    if (typeof frame.type !== 'string') return;
    if (frame.type === 'ack') {
      if (typeof frame.id === 'number') this.settleAck(frame.id, () => frame.data);
      return;
    }
    this.deliver(frame.type, frame.data);
  }
}
