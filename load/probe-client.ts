/**
 * A client for security probes: one connection at a time, full control over what it sends (any
 * token or none, an Origin header, raw frames of any size) and whether it reads at all (`pause()`
 * stops reading the socket, so the server's send buffer for it fills). It speaks both wire
 * protocols of the reference servers — Socket.IO (Engine.IO v4 / Socket.IO v5 over a WebSocket)
 * and the JSON frames of the ws and Bun variants — and reports how a handshake ended instead of
 * throwing. Not for load: the lean clients (sio-client.ts, ws-client.ts) are.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { clientTls } from '../common/tls.js';
import { engineIoUrl } from './sio-client.js';
import { jsonWsUrl } from './ws-client.js';
import type { Credentials } from './profile.js';
import type { WireProtocol } from './protocol-client.js';

/**
 * A protocol profile's handshake (config/protocol.ts, compiled by load/profile.ts): the endpoint
 * path and the credential where the profile puts it. The handshake is complete at the Socket.IO
 * CONNECT ack / the WebSocket upgrade (then the first frame, if any, is sent); no `welcome` is
 * waited for. Every frame after it goes to the client's `onProfileFrame` as the profile reads
 * frames: Socket.IO `(event, [event, arg0, …])`, JSON `('', frame)`.
 */
export interface ProbeProfileHandshake {
  path: string;
  credentials: Credentials;
}

export interface ProbeConnectOptions {
  /** Base http(s)/ws URL (the load balancer, or a node). */
  url: string;
  protocol: WireProtocol;
  /** The JWT to present; undefined sends none at all. */
  token?: string;
  /** Origin header to send (a browser always sends one); undefined sends none. */
  origin?: string;
  /** Until the handshake is complete (upgrade + Socket.IO CONNECT / `welcome`). Default 5000 ms. */
  timeoutMs?: number;
  /** Speak a protocol profile's handshake instead of the reference one (`token` is then unused). */
  profile?: ProbeProfileHandshake;
}

/** How a handshake ended. */
export type HandshakeOutcome =
  | { kind: 'connected'; client: ProbeClient }
  /** The upgrade was refused with an HTTP status (ws/bun: 401 bad token, 403 origin; engine.io: 400). */
  | { kind: 'http'; status: number; body: string }
  /** Socket.IO CONNECT_ERROR (the server's auth middleware refused the token). */
  | { kind: 'connect_error'; message: string }
  /** The WebSocket closed before the handshake completed. */
  | { kind: 'closed'; code: number }
  /** Refused, timed out, or another transport error. */
  | { kind: 'error'; message: string };

/** A short human description of an outcome, for the report. */
export function describeOutcome(o: HandshakeOutcome): string {
  switch (o.kind) {
    case 'connected':
      // A profile's handshake waits for no welcome (load/probe-client.ts ProbeProfileHandshake).
      return o.client.nodeId === undefined ? 'connected (the handshake completed)' : `connected (welcome from ${o.client.nodeId})`;
    case 'http':
      return `upgrade refused: HTTP ${o.status}${o.body ? ` ${o.body.slice(0, 80).trim()}` : ''}`;
    case 'connect_error':
      return `connect_error "${o.message}"`;
    case 'closed':
      return `closed with ${o.code} during the handshake`;
    case 'error':
      return `error: ${o.message}`;
  }
}

type Pending = { resolve: (v: unknown) => void; timer: NodeJS.Timeout };

/** The URL a handshake goes to: Engine.IO's for socketio, `/ws?token=` for the JSON protocol. */
export function probeUrl(o: Pick<ProbeConnectOptions, 'url' | 'protocol' | 'token' | 'profile'>): string {
  if (o.profile !== undefined) {
    const q = o.profile.credentials.query;
    return o.protocol === 'socketio' ? engineIoUrl(o.url, o.profile.path, q) : jsonWsUrl(o.url, undefined, o.profile.path, q);
  }
  if (o.protocol === 'socketio') return engineIoUrl(o.url);
  const u = new URL(o.url);
  u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  u.pathname = '/ws';
  u.search = '';
  if (o.token !== undefined) u.searchParams.set('token', o.token);
  return u.toString();
}

export class ProbeClient {
  /** Node id from the server's `welcome`. */
  nodeId: string | undefined;
  /** Every byte and message received after the handshake. */
  bytesReceived = 0;
  messagesReceived = 0;
  /** Server events by name (`msg`, `server_shutdown`, …). */
  readonly events = new Map<string, number>();
  /** Settles when the connection closes: the WebSocket close code (1006: no close frame). */
  readonly closed: Promise<{ code: number; reason: string }>;
  closeCode: number | undefined;
  /** The load balancer's `X-Wsbench-Upstream` on the upgrade response (`host:port`), else null. */
  upstream: string | null = null;
  /** Profile mode (`probeConnect` with `profile`): every frame as the profile reads it. */
  onProfileFrame: ((event: string, data: unknown) => void) | null = null;
  private nextId = 1;
  private readonly acks = new Map<number, Pending>();

  constructor(
    private readonly ws: WebSocket,
    readonly protocol: WireProtocol,
  ) {
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        for (const a of this.acks.values()) {
          clearTimeout(a.timer);
          a.resolve({ closed: code });
        }
        this.acks.clear();
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** @internal one frame after the handshake. */
  onFrame(text: string, bytes: number): void {
    this.bytesReceived += bytes;
    this.messagesReceived++;
    if (this.protocol === 'socketio') {
      if (text === '2') return void this.ws.send('3');
      if (!text.startsWith('4')) return;
      if (this.onProfileFrame !== null && text.startsWith('42')) {
        // An event with or without an ack id: `42[…]` / `42<id>[…]`.
        const at = text.indexOf('[');
        let args: unknown;
        try {
          args = JSON.parse(text.slice(at));
        } catch {
          return;
        }
        if (Array.isArray(args) && typeof args[0] === 'string') {
          this.event(args[0], args[1]);
          this.onProfileFrame(args[0], args);
        }
        return;
      }
      const type = text.charCodeAt(1) - 48;
      let i = 2;
      let id = -1;
      for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) id = (id < 0 ? 0 : id * 10) + (c - 48);
      let args: unknown;
      try {
        args = JSON.parse(text.slice(i));
      } catch {
        return;
      }
      if (type === 3) return this.settle(id, Array.isArray(args) ? args[0] : undefined);
      if (type === 2 && Array.isArray(args) && typeof args[0] === 'string') this.event(args[0], args[1]);
      return;
    }
    let f: { type?: unknown; id?: unknown; data?: unknown };
    try {
      f = JSON.parse(text) as typeof f;
    } catch {
      return;
    }
    if (this.onProfileFrame !== null) return this.onProfileFrame('', f);
    if (f.type === 'ack' && typeof f.id === 'number') return this.settle(f.id, f.data);
    if (typeof f.type === 'string') this.event(f.type, f.data);
  }

  private event(name: string, data: unknown): void {
    this.events.set(name, (this.events.get(name) ?? 0) + 1);
    if (name === 'welcome' && typeof data === 'object' && data !== null) this.nodeId = String((data as { nodeId?: unknown }).nodeId ?? '');
  }

  private settle(id: number, value: unknown): void {
    const a = this.acks.get(id);
    if (!a) return;
    this.acks.delete(id);
    clearTimeout(a.timer);
    a.resolve(value);
  }

  /** The frame for `event` with `data` (and an ack id): what `emitWithAck` sends. */
  frame(event: string, data: unknown, id?: number): string {
    if (this.protocol === 'socketio') return `42${id ?? ''}${JSON.stringify([event, data])}`;
    return JSON.stringify(id === undefined ? { type: event, data } : { type: event, id, data });
  }

  /**
   * Sends an event and resolves with its ack, `{closed: code}` if the connection closed first,
   * or `{timeout: true}` after `timeoutMs`.
   */
  emitWithAck(event: string, data: unknown, timeoutMs = 5000): Promise<unknown> {
    return this.sendWithAck((id) => this.frame(event, data, id), timeoutMs);
  }

  /** Sends the frame `build(id)` makes for a fresh ack id; resolves as emitWithAck does. */
  sendWithAck(build: (id: number) => string, timeoutMs = 5000): Promise<unknown> {
    if (!this.open) return Promise.resolve({ closed: this.closeCode ?? 1006 });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        resolve({ timeout: true });
      }, timeoutMs);
      this.acks.set(id, { resolve, timer });
      this.ws.send(build(id));
    });
  }

  /** Sends one raw text frame (e.g. an oversized one). */
  sendRaw(text: string): void {
    if (this.open) this.ws.send(text);
  }

  /** Bytes handed to the socket and not yet written to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Stops reading the socket: what the server sends piles up in the kernel, then in the server. */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(): void {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.terminate();
  }
}

/**
 * One handshake: resolves once it completed (Socket.IO: the CONNECT ack and `welcome`; JSON: the
 * upgrade and `welcome`) or how it failed. Never rejects.
 */
export function probeConnect(opts: ProbeConnectOptions): Promise<HandshakeOutcome> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise<HandshakeOutcome>((resolve) => {
    let settled = false;
    let ws: WebSocket;
    const done = (o: HandshakeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (o.kind !== 'connected') ws?.terminate();
      resolve(o);
    };
    const timer = setTimeout(() => done({ kind: 'error', message: `handshake timed out after ${timeoutMs} ms` }), timeoutMs);
    try {
      const headers = opts.profile?.credentials.headers;
      ws = new WebSocket(probeUrl(opts), { perMessageDeflate: false, maxPayload: 0, ...clientTls(), ...(headers ? { headers } : {}), ...(opts.origin !== undefined ? { origin: opts.origin } : {}) });
    } catch (e) {
      done({ kind: 'error', message: (e as Error).message });
      return;
    }
    const client = new ProbeClient(ws, opts.protocol);
    const profile = opts.profile;
    let connected = false;
    ws.on('upgrade', (res: IncomingMessage) => {
      const h = res.headers['x-wsbench-upstream'];
      if (typeof h === 'string') client.upstream = h;
    });
    /** Profile mode: the handshake is complete; the first frame (if the profile sends one) goes now. */
    const profileConnected = () => {
      connected = true;
      if (profile!.credentials.firstFrame !== undefined) ws.send(profile!.credentials.firstFrame);
      done({ kind: 'connected', client });
    };
    ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => done({ kind: 'http', status: res.statusCode ?? 0, body }));
      res.on('error', () => done({ kind: 'http', status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (e: Error & { code?: string }) => done({ kind: 'error', message: e.code ? `${e.code}: ${e.message}` : e.message }));
    ws.on('close', (code: number) => done({ kind: 'closed', code }));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const text = data.toString('utf8');
      if (connected) {
        client.onFrame(text, data.length);
        return;
      }
      if (opts.protocol === 'socketio') {
        if (text.startsWith('0')) {
          if (profile !== undefined) ws.send(profile.credentials.auth === undefined ? '40' : `40${JSON.stringify(profile.credentials.auth)}`);
          else ws.send(opts.token === undefined ? '40' : `40${JSON.stringify({ token: opts.token })}`);
        } else if (text === '2') {
          ws.send('3');
        } else if (text.startsWith('44')) {
          let message = text.slice(2);
          try {
            message = String((JSON.parse(message) as { message?: unknown }).message ?? message);
          } catch {
            // keep the raw text
          }
          done({ kind: 'connect_error', message });
        } else if (text.startsWith('40')) {
          if (profile !== undefined) profileConnected();
          else connected = true; // `welcome` follows as an event
        }
        return;
      }
      connected = true;
      client.onFrame(text, data.length);
    });
    ws.on('open', () => {
      if (opts.protocol !== 'socketio') {
        if (profile !== undefined) profileConnected();
        else connected = true;
      }
    });
    // Wait for `welcome` (node id) after the handshake.
    const poll = setInterval(() => {
      if (settled) return clearInterval(poll);
      if (connected && client.nodeId !== undefined) {
        clearInterval(poll);
        done({ kind: 'connected', client });
      }
    }, 5);
    poll.unref();
  });
}
