/**
 * The application side of the ws and Bun reference servers, independent of the WebSocket library:
 * sessions, local rooms, the JSON protocol (`json-wire.ts`), the per-connection rate limit, room
 * capacity, the Redis cluster bus (`redis-bus.ts`), Prometheus metrics and the bodies of /health
 * and /stats. A transport (ws-server.ts, bun-server.ts) owns the sockets and the HTTP side and
 * calls `open` / `message` / `close`.
 *
 * Fan-out: a room message is serialised once on the publishing node. The local members get the
 * same frame (ws: one Buffer written to every socket; Bun: one `server.publish(room, …)`), the
 * other nodes get it through the room's Redis channel and forward the bytes unchanged.
 */
import { randomBytes } from 'node:crypto';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { MAX_ROOM_NAME_LENGTH, RECONNECT_DELAY_MS, type ReferenceServerOptions } from './options.js';
import { grantsRoom, type TokenGrant } from './token.js';
import type { SecurityPolicy } from './security.js';
import { CLOSE_GOING_AWAY, ackFrame, eventFrame, parseClientFrame } from './json-wire.js';
import { RedisBus, settleWithin, type BusLayout, type Log } from './redis-bus.js';
import { CalibrationFaults } from './calibration-faults.js';

/** A connection as the transport exposes it. `F` is the transport's shared-frame type. */
export interface HubSocket<F> {
  /** Sends a frame shared by many receivers (as a text frame). */
  send(frame: F): void;
  /** Sends a one-off text frame. */
  sendText(text: string): void;
  close(code: number, reason: string): void;
  terminate(): void;
  /** Sends a WebSocket ping (transports that run their own keepalive). */
  ping?(): void;
  /** Bun: ws.subscribe(room), so that `server.publish(room, …)` reaches this socket. */
  subscribe?(room: string): void;
  unsubscribe?(room: string): void;
}

export interface HubTransport<F> {
  /** The shared frame for `text`; `utf8` is the same text already encoded. */
  frame(text: string, utf8: Buffer): F;
  /** The shared frame for a frame that came from another node through Redis. */
  fromBus(utf8: Buffer): F;
  /** Delivers `frame` to every local member of `room`. */
  fanOut(room: string, members: ReadonlySet<Session<F>>, frame: F): void;
}

export class Session<F> {
  readonly rooms = new Set<string>();
  /** Fixed rate-limit window: start (ms) and messages counted in it. */
  windowStart = 0;
  used = 0;
  /** Last time the peer showed life (message or pong), ms. */
  lastSeen = Date.now();
  open = true;
  constructor(
    readonly sid: string,
    readonly grant: TokenGrant,
    readonly socket: HubSocket<F>,
  ) {}
}

// Shared ack bodies, serialised per reply (small).
const ACK_OK = { ok: true };
const ERR_BAD_REQUEST = { ok: false, error: 'bad_request' };
const ERR_FORBIDDEN = { ok: false, error: 'forbidden' };
const ERR_RATE_LIMITED = { ok: false, error: 'rate_limited' };
const ERR_ROOM_FULL = { ok: false, error: 'room_full' };
const ERR_UNKNOWN_EVENT = { ok: false, error: 'unknown_event' };
const ERROR_BAD_FRAME = eventFrame('error', { error: 'bad_request' });
/** A join is acked once the room channel is subscribed, or after this long during a Redis outage. */
const SUBSCRIBE_WAIT_MS = 2000;

function nameOf(data: unknown, key: 'room' | 'to'): string | null {
  if (typeof data !== 'object' || data === null) return null;
  const v = (data as Record<string, unknown>)[key];
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ROOM_NAME_LENGTH ? v : null;
}

function payloadOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null ? (data as { payload?: unknown }).payload : undefined;
}

/** prom-client metrics, with the socket.io variant's names (the harness scrapes them alike). */
function createMetrics(registry: Registry, nodeId: string, gauges: { connections: () => number; rooms: () => number; roomSubscriptions: () => number }) {
  registry.setDefaultLabels({ node_id: nodeId });
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  gauge('wsb_connections', 'WebSocket connections on this node', gauges.connections);
  gauge('wsb_rooms', 'Rooms with at least one local member', gauges.rooms);
  gauge('wsb_redis_room_subscriptions', 'Room channels this node is subscribed to (rooms with local members)', gauges.roomSubscriptions);
  const messagesIn = new Counter({ name: 'wsb_messages_in_total', help: 'Client events received, by event', labelNames: ['event'] as const, registers: [registry] });
  const publishTotal = new Counter({ name: 'wsb_publish_total', help: 'Accepted publishes (broadcast to the room cluster-wide)', registers: [registry] });
  const rejected = new Counter({ name: 'wsb_rejected_total', help: 'Rejected upgrades / events, by reason', labelNames: ['reason'] as const, registers: [registry] });
  // Pre-bound children: no label hashing on the hot path.
  const c = {
    inJoin: messagesIn.labels('join'),
    inLeave: messagesIn.labels('leave'),
    inPublish: messagesIn.labels('publish'),
    inPing: messagesIn.labels('ping'),
    inDirect: messagesIn.labels('direct'),
    inBroadcast: messagesIn.labels('broadcast'),
    publishTotal,
    rejUnauthorized: rejected.labels('unauthorized'),
    rejForbidden: rejected.labels('forbidden'),
    rejRateLimited: rejected.labels('rate_limited'),
    rejRoomFull: rejected.labels('room_full'),
    rejTooLarge: rejected.labels('too_large'),
    rejBadRequest: rejected.labels('bad_request'),
    rejOrigin: rejected.labels('origin'),
    rejSlowConsumer: rejected.labels('slow_consumer'),
  };
  for (const v of Object.values(c)) v.inc(0);
  return c;
}
type HubMetrics = ReturnType<typeof createMetrics>;

export interface HubOptions extends ReferenceServerOptions {
  /** What the node enforces (security.ts); without it: the plain options and the token's rooms. */
  policy?: SecurityPolicy;
  layout: BusLayout;
}

export class JsonHub<F> {
  readonly nodeId: string;
  readonly sessions = new Set<Session<F>>();
  /** Local members by room (only rooms with at least one local member). */
  readonly rooms = new Map<string, Set<Session<F>>>();
  private readonly users = new Map<string, Set<Session<F>>>();
  readonly bus: RedisBus;
  readonly registry = new Registry();
  draining = false;
  private readonly startedAt = Date.now();
  private readonly c: HubMetrics;
  /** --calibration-fault (wsbench calibrate only): known faults on the room broadcasts this node delivers. */
  private readonly faults: CalibrationFaults;
  /** Messages per connection per window (Infinity with `--insecure-disable rate-limit`). */
  private readonly rateLimit: number;
  private readonly mayUse: (grant: TokenGrant, room: string) => boolean;
  private published = 0;

  constructor(
    private readonly opts: HubOptions,
    private readonly transport: HubTransport<F>,
    private readonly log: Log,
  ) {
    this.nodeId = opts.nodeId;
    this.faults = new CalibrationFaults(opts.calibrationFaults ?? []);
    if (this.faults.active) log(this.faults.describe());
    this.rateLimit = opts.policy?.rateLimit ?? opts.rateLimit;
    this.mayUse = opts.policy?.mayUse ?? grantsRoom;
    this.c = createMetrics(this.registry, this.nodeId, {
      connections: () => this.sessions.size,
      rooms: () => this.rooms.size,
      roomSubscriptions: () => this.bus.subscriptions('room'),
    });
    this.bus = new RedisBus(
      {
        redisUrl: opts.redisUrl,
        nodeId: opts.nodeId,
        layout: opts.layout,
        log,
        stats: () => ({ connections: this.sessions.size, rooms: this.rooms.size, messages: this.published }),
      },
      {
        onRoom: (room, utf8) => {
          const members = this.rooms.get(room);
          if (members === undefined || members.size === 0) return;
          if (!this.faults.active) return this.transport.fanOut(room, members, this.transport.fromBus(utf8));
          // Copied: a delayed or held write must not read a buffer the Redis client reuses.
          const frame = this.transport.fromBus(Buffer.from(utf8));
          this.faults.deliver(room, true, () => this.transport.fanOut(room, members, frame), () => this.leak(room, frame));
        },
        onUser: (userId, utf8) => {
          const conns = this.users.get(userId);
          if (conns === undefined) return;
          const frame = this.transport.fromBus(utf8);
          for (const s of conns) s.socket.send(frame);
        },
        onGlobal: (utf8) => {
          const frame = this.transport.fromBus(utf8);
          for (const s of this.sessions) s.socket.send(frame);
        },
      },
    );
  }

  /** Connects to Redis and registers this node; resolves when cross-node delivery works. */
  start(): Promise<void> {
    return this.bus.start();
  }

  /** An upgrade refused for a missing or invalid token. */
  rejectedOrigin(): void {
    this.c.rejOrigin.inc();
  }

  /** A connection dropped because more than --max-buffered-bytes waited for it (it stopped reading). */
  droppedSlowConsumer(): void {
    this.c.rejSlowConsumer.inc();
  }

  rejectedUnauthorized(): void {
    this.c.rejUnauthorized.inc();
  }

  /** A connection passed the upgrade: register it and say welcome. */
  open(socket: HubSocket<F>, grant: TokenGrant): Session<F> {
    const s = new Session<F>(randomBytes(12).toString('base64url'), grant, socket);
    this.sessions.add(s);
    let conns = this.users.get(grant.sub);
    if (conns === undefined) {
      conns = new Set();
      this.users.set(grant.sub, conns);
      void this.bus.subscribe('user', grant.sub);
    }
    conns.add(s);
    socket.sendText(eventFrame('welcome', { nodeId: this.nodeId, sid: s.sid }));
    return s;
  }

  /** The connection closed (for any reason). `tooBig`: it sent a frame over the size limit. */
  close(s: Session<F>, tooBig = false): void {
    if (!s.open) return;
    s.open = false;
    if (tooBig) this.c.rejTooLarge.inc();
    this.sessions.delete(s);
    for (const room of s.rooms) this.removeMember(s, room, false);
    s.rooms.clear();
    const conns = this.users.get(s.grant.sub);
    if (conns !== undefined) {
      conns.delete(s);
      if (conns.size === 0) {
        this.users.delete(s.grant.sub);
        this.bus.unsubscribe('user', s.grant.sub);
      }
    }
  }

  /** Some sign of life from the peer (a pong). */
  seen(s: Session<F>): void {
    s.lastSeen = Date.now();
  }

  /** One text frame from the client. */
  message(s: Session<F>, text: string): void {
    s.lastSeen = Date.now();
    const f = parseClientFrame(text);
    if (f === null) {
      this.c.rejBadRequest.inc();
      s.socket.sendText(ERROR_BAD_FRAME);
      return;
    }
    const { id, data } = f;
    switch (f.type) {
      case 'publish':
        return this.onPublish(s, id, data);
      case 'join':
        return this.onJoin(s, id, data);
      case 'leave':
        return this.onLeave(s, id, data);
      case 'ping': {
        this.c.inPing.inc();
        if (id === undefined) return;
        const t = typeof data === 'object' && data !== null ? (data as { t?: unknown }).t : undefined;
        return this.ack(s, id, { nodeId: this.nodeId, t });
      }
      case 'direct':
        return this.onDirect(s, id, data);
      case 'broadcast':
        return this.onBroadcast(s, id, data);
      default:
        if (id !== undefined) this.ack(s, id, ERR_UNKNOWN_EVENT);
    }
  }

  private ack(s: Session<F>, id: number | undefined, data: unknown): void {
    if (id !== undefined && s.open) s.socket.sendText(ackFrame(id, data));
  }

  /** Per-connection fixed-window limiter (seed 001: "Max 100 messages/minute per connection"). */
  private allow(s: Session<F>): boolean {
    const now = Date.now();
    if (now - s.windowStart >= this.opts.rateWindowMs) {
      s.windowStart = now;
      s.used = 0;
    }
    return ++s.used <= this.rateLimit;
  }

  private onJoin(s: Session<F>, id: number | undefined, data: unknown): void {
    this.c.inJoin.inc();
    if (!this.allow(s)) {
      this.c.rejRateLimited.inc();
      return this.ack(s, id, ERR_RATE_LIMITED);
    }
    const room = nameOf(data, 'room');
    if (room === null) return this.ack(s, id, ERR_BAD_REQUEST);
    if (!this.mayUse(s.grant, room)) {
      this.c.rejForbidden.inc();
      return this.ack(s, id, ERR_FORBIDDEN);
    }
    let members = this.rooms.get(room);
    if (!s.rooms.has(room)) {
      // Capacity counts this node's local members only, as the socket.io variant does.
      if ((members?.size ?? 0) >= this.opts.roomCapacity) {
        this.c.rejRoomFull.inc();
        return this.ack(s, id, ERR_ROOM_FULL);
      }
      if (members === undefined) {
        members = new Set();
        this.rooms.set(room, members);
        // First local member: from now on this node listens to the room's channel.
        void this.bus.subscribe('room', room);
      }
      members.add(s);
      s.rooms.add(room);
      s.socket.subscribe?.(room);
    }
    if (id === undefined) return;
    const reply = { ok: true, nodeId: this.nodeId, members: members!.size };
    // Ack once this node's SUBSCRIBE is confirmed: whatever other nodes publish after the ack
    // reaches the new member (bounded, so a Redis outage degrades to local-only instead of hanging).
    if (this.bus.subscribed('room', room)) return this.ack(s, id, reply);
    void settleWithin(this.bus.subscribe('room', room), SUBSCRIBE_WAIT_MS).then(() => this.ack(s, id, reply));
  }

  private removeMember(s: Session<F>, room: string, unsubscribeSocket: boolean): void {
    const members = this.rooms.get(room);
    if (members === undefined || !members.delete(s)) return;
    if (unsubscribeSocket) s.socket.unsubscribe?.(room);
    if (members.size === 0) {
      // Last local member gone: stop receiving the room's traffic (seed 002: channels only where needed).
      this.rooms.delete(room);
      this.bus.unsubscribe('room', room);
    }
  }

  private onLeave(s: Session<F>, id: number | undefined, data: unknown): void {
    this.c.inLeave.inc();
    const room = nameOf(data, 'room');
    if (room === null) return this.ack(s, id, ERR_BAD_REQUEST);
    if (s.rooms.delete(room)) this.removeMember(s, room, true);
    this.ack(s, id, { ok: true, nodeId: this.nodeId });
  }

  private onPublish(s: Session<F>, id: number | undefined, data: unknown): void {
    this.c.inPublish.inc();
    if (!this.allow(s)) {
      this.c.rejRateLimited.inc();
      return this.ack(s, id, ERR_RATE_LIMITED);
    }
    const room = nameOf(data, 'room');
    if (room === null) return this.ack(s, id, ERR_BAD_REQUEST);
    if (!this.mayUse(s.grant, room)) {
      this.c.rejForbidden.inc();
      return this.ack(s, id, ERR_FORBIDDEN);
    }
    // Serialised once; the same bytes go to every local member and, through Redis, to every node.
    const text = eventFrame('msg', { room, payload: payloadOf(data) });
    const utf8 = Buffer.from(text);
    const members = this.rooms.get(room);
    if (members !== undefined) {
      const frame = this.transport.frame(text, utf8);
      if (this.faults.active) this.faults.deliver(room, false, () => this.transport.fanOut(room, members, frame), () => this.leak(room, frame));
      else this.transport.fanOut(room, members, frame);
    }
    this.bus.publish('room', room, utf8);
    this.c.publishTotal.inc();
    this.published++;
    this.ack(s, id, ACK_OK);
  }

  private onDirect(s: Session<F>, id: number | undefined, data: unknown): void {
    this.c.inDirect.inc();
    if (!this.allow(s)) {
      this.c.rejRateLimited.inc();
      return this.ack(s, id, ERR_RATE_LIMITED);
    }
    const to = nameOf(data, 'to');
    if (to === null) return this.ack(s, id, ERR_BAD_REQUEST);
    const text = eventFrame('dm', { from: s.grant.sub, payload: payloadOf(data) });
    const utf8 = Buffer.from(text);
    const local = this.users.get(to);
    if (local !== undefined) {
      const frame = this.transport.frame(text, utf8);
      for (const r of local) r.socket.send(frame);
    }
    this.bus.publish('user', to, utf8);
    this.ack(s, id, ACK_OK);
  }

  private onBroadcast(s: Session<F>, id: number | undefined, data: unknown): void {
    this.c.inBroadcast.inc();
    if (!this.allow(s)) {
      this.c.rejRateLimited.inc();
      return this.ack(s, id, ERR_RATE_LIMITED);
    }
    if (s.grant.rooms !== null) {
      this.c.rejForbidden.inc();
      return this.ack(s, id, ERR_FORBIDDEN);
    }
    const text = eventFrame('broadcast', { from: s.grant.sub, payload: payloadOf(data) });
    const utf8 = Buffer.from(text);
    const frame = this.transport.frame(text, utf8);
    for (const r of this.sessions) r.socket.send(frame);
    this.bus.publish('global', '', utf8);
    this.ack(s, id, ACK_OK);
  }

  // ---- HTTP bodies --------------------------------------------------------------------------

  /** /health: 200 when Redis is ready and the node is not draining, else 503. */
  health(): { status: number; body: Record<string, unknown> } {
    const ok = this.bus.ready() && !this.draining;
    return {
      status: ok ? 200 : 503,
      body: {
        status: ok ? 'ok' : this.draining ? 'draining' : 'degraded',
        nodeId: this.nodeId,
        connections: this.sessions.size,
        redis: this.bus.status(),
      },
    };
  }

  /** /stats (seed 002's "Instance statistics"). */
  async stats(): Promise<Record<string, unknown>> {
    let instances: string[] = [];
    try {
      if (this.bus.ready()) instances = await this.bus.instances();
    } catch {
      // degraded: report what we know
    }
    const mem = process.memoryUsage();
    return {
      nodeId: this.nodeId,
      instanceId: this.nodeId,
      connections: this.sessions.size,
      rooms: this.rooms.size,
      users: this.users.size,
      published: this.published,
      totalInstances: instances.length,
      instances,
      peers: this.bus.knownPeers(),
      subscriptions: { rooms: this.bus.subscriptions('room'), users: this.bus.subscriptions('user') },
      layout: `seed ${this.bus.layout.seed}`,
      redis: this.bus.status(),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal },
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
    };
  }

  /** Calibration `leak-room` only: a room's broadcast written to this node's clients outside the room. */
  private leak(room: string, frame: F): void {
    for (const s of this.sessions) if (!s.rooms.has(room)) s.socket.send(frame);
  }

  // ---- shutdown -----------------------------------------------------------------------------

  /** Tells every local connection the node is going away (seed 000's `server_shutdown`). */
  notifyShutdown(): void {
    this.draining = true;
    this.faults.close();
    const text = eventFrame('server_shutdown', { nodeId: this.nodeId, reconnectDelay: RECONNECT_DELAY_MS });
    for (const s of this.sessions) s.socket.sendText(text);
  }

  /** Closes every local connection with 1001; resolves when all closed (or after `ms`, terminating the rest). */
  async closeAll(ms = 3000): Promise<void> {
    for (const s of this.sessions) s.socket.close(CLOSE_GOING_AWAY, 'server shutdown');
    const deadline = Date.now() + ms;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of [...this.sessions]) {
      s.socket.terminate();
      this.close(s);
    }
  }
}
