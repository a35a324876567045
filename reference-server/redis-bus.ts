/**
 * The cluster bus of the ws and Bun reference servers: Redis pub/sub between nodes, on ioredis,
 * as seed 002 (TableForge's RedisPubSubManager) and seed 004 (ClusterManager) describe it:
 *
 * - a channel per room, subscribed only on nodes that have local members of the room (the hub
 *   subscribes on the first local join and unsubscribes when the last local member leaves);
 * - a channel per user (direct messages), subscribed on nodes where that user has a connection;
 * - a global channel every node subscribes to;
 * - an instance registry: every node keeps a key with a TTL (refreshed by a heartbeat, deleted on
 *   graceful shutdown, expiring when a node dies) and announces itself on an instances channel.
 *
 * Channel messages are `<origin node id>\n<client-ready JSON frame>`: a receiving node skips its
 * own messages (it delivered them locally already) and forwards the frame bytes as they are, so a
 * room message is serialised once, on the publishing node, whatever the number of receivers.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type Log = (msg: string) => void;

/** Channel and key names, heartbeat period and registry TTL: one layout per seed. */
export interface BusLayout {
  /** Seed the layout follows (for logs and /stats). */
  readonly seed: string;
  room(room: string): string;
  user(userId: string): string;
  readonly global: string;
  /** Heartbeats and node_shutdown notices. */
  readonly instances: string;
  instanceKey(nodeId: string): string;
  readonly instanceKeyPattern: string;
  /** Heartbeat period, ms. */
  readonly heartbeatMs: number;
  /** Registry key TTL, s: a node that stops heartbeating disappears after this. */
  readonly instanceTtlSec: number;
}

/**
 * Seed 002 (TableForge): channels `tableforge:rooms:*`, `tableforge:users:*`, `tableforge:global`,
 * `tableforge:instances` (here under `wsb:`), HEARTBEAT_INTERVAL=30000, INACTIVE_THRESHOLD=120000.
 */
export const TABLEFORGE_LAYOUT: BusLayout = {
  seed: '002',
  room: (r) => `wsb:rooms:${r}`,
  user: (u) => `wsb:users:${u}`,
  global: 'wsb:global',
  instances: 'wsb:instances',
  instanceKey: (id) => `wsb:instance:${id}`,
  instanceKeyPattern: 'wsb:instance:*',
  heartbeatMs: 30_000,
  instanceTtlSec: 120,
};

/**
 * Seed 004 (ClusterManager): `cluster:<channel>` channels, the registry key `nodes:<nodeId>` set with
 * SETEX 30 and refreshed every 15 s.
 */
export const CLUSTER_MANAGER_LAYOUT: BusLayout = {
  seed: '004',
  room: (r) => `cluster:room:${r}`,
  user: (u) => `cluster:user:${u}`,
  global: 'cluster:broadcast',
  instances: 'cluster:system',
  instanceKey: (id) => `nodes:${id}`,
  instanceKeyPattern: 'nodes:*',
  heartbeatMs: 15_000,
  instanceTtlSec: 30,
};

export type ChannelKind = 'room' | 'user' | 'global' | 'instances';

export interface BusHandlers {
  /** A frame for the local members of `room`, published by another node. */
  onRoom(room: string, frame: Buffer): void;
  /** A frame for the local connections of user `userId`, published by another node. */
  onUser(userId: string, frame: Buffer): void;
  /** A frame for every local connection, published by another node. */
  onGlobal(frame: Buffer): void;
}

export interface BusOptions {
  redisUrl: string;
  nodeId: string;
  layout: BusLayout;
  /** What the heartbeat records about this node. */
  stats: () => Record<string, number>;
  log: Log;
}

/** A channel this node wants to receive (the desired state; Redis is made to match it). */
interface Channel {
  readonly kind: ChannelKind;
  readonly name: string;
  /** True while Redis has confirmed the SUBSCRIBE on the current connection. */
  confirmed: boolean;
  /** Resolved (and replaced by a fresh one) each time a SUBSCRIBE is confirmed. */
  waiter: Promise<void>;
  wake: () => void;
}

const NEWLINE = 10;

/** Logs Redis errors tersely: once per distinct message per 5 s, plus a line on recovery. */
function watchRedis(client: Redis, name: string, log: Log): void {
  let lastMsg = '';
  let lastAt = 0;
  let failing = false;
  client.on('error', (err: Error) => {
    const now = Date.now();
    failing = true;
    if (err.message !== lastMsg || now - lastAt > 5000) {
      lastMsg = err.message;
      lastAt = now;
      log(`redis ${name} error: ${err.message}`);
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

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

/** Waits for `p` (ignoring its outcome) at most `ms`. */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p.then(() => undefined, () => undefined), delay(ms)]);
}

async function quitRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  // quit() waits for queued commands; during a Redis outage it would never finish, so bound it.
  await settleWithin(client.quit(), 1000);
  client.disconnect();
}

export class RedisBus {
  readonly pub: Redis;
  readonly sub: Redis;
  readonly layout: BusLayout;
  private readonly nodeId: string;
  /** `<nodeId>\n`: prefix of every message this node publishes. */
  private readonly origin: Buffer;
  private readonly channels = new Map<string, Channel>();
  /** Other nodes heard on the instances channel → last heartbeat (ms since epoch). */
  private readonly peers = new Map<string, number>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closed: Promise<void> | undefined;
  /** Channel publishes Redis refused (they are counted, not retried). */
  publishErrors = 0;

  constructor(
    private readonly opts: BusOptions,
    private readonly handlers: BusHandlers,
  ) {
    this.nodeId = opts.nodeId;
    this.layout = opts.layout;
    this.origin = Buffer.from(`${opts.nodeId}\n`);
    const redisOptions: RedisOptions = {
      // Never fail commands during an outage: they wait in the offline queue and are flushed on
      // reconnect; meanwhile local delivery goes on (seed 002: graceful degradation).
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      retryStrategy: (times) => Math.min(times * 100, 1000),
      connectionName: `wsbench-ref-${opts.nodeId}`,
    };
    this.pub = new Redis(opts.redisUrl, redisOptions);
    // No autoResubscribe: ioredis would restore the channels *it* saw confirmed, and SUBSCRIBE is
    // one of the commands it writes while a connection is still in its handshake — which puts the
    // connection in subscriber mode before the ready check, fails that check and drops the
    // pending SUBSCRIBEs. Instead SUBSCRIBE/UNSUBSCRIBE go out only while `ready`, and the
    // desired channel set is re-subscribed on every 'ready'.
    this.sub = this.pub.duplicate({ autoResubscribe: false });
    watchRedis(this.pub, 'pub', opts.log);
    watchRedis(this.sub, 'sub', opts.log);
    // Buffers only: ioredis converts to strings only when a 'message' listener exists.
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    // The subscriptions are ours to restore: on every (re)connect, SUBSCRIBE what is wanted now.
    this.sub.on('ready', () => this.resubscribeAll());
    this.sub.on('close', () => {
      for (const c of this.channels.values()) c.confirmed = false;
    });
  }

  /** Connects, subscribes the global and instances channels, registers this node. */
  async start(): Promise<void> {
    await Promise.all([whenReady(this.pub), whenReady(this.sub)]);
    await Promise.all([this.subscribe('global', ''), this.subscribe('instances', '')]);
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), this.layout.heartbeatMs);
    this.heartbeat.unref?.();
  }

  ready(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  status(): string {
    return this.ready() ? 'ready' : `pub:${this.pub.status},sub:${this.sub.status}`;
  }

  channelOf(kind: ChannelKind, name: string): string {
    switch (kind) {
      case 'room':
        return this.layout.room(name);
      case 'user':
        return this.layout.user(name);
      case 'global':
        return this.layout.global;
      case 'instances':
        return this.layout.instances;
    }
  }

  /**
   * Wants the channel (once; callers count references) and SUBSCRIBEs it when the connection is
   * ready (else on the next 'ready'). The promise resolves when Redis confirmed it — during an
   * outage, only after the reconnect.
   */
  subscribe(kind: ChannelKind, name: string): Promise<void> {
    const channel = this.channelOf(kind, name);
    const existing = this.channels.get(channel);
    if (existing) return existing.confirmed ? Promise.resolve() : existing.waiter;
    let wake: () => void = () => undefined;
    const waiter = new Promise<void>((resolve) => (wake = resolve));
    const entry: Channel = { kind, name, confirmed: false, waiter, wake };
    this.channels.set(channel, entry);
    if (this.sub.status === 'ready') this.sendSubscribe([channel]);
    return waiter;
  }

  /** True while Redis has confirmed this node's SUBSCRIBE of the channel. */
  subscribed(kind: ChannelKind, name: string): boolean {
    return this.channels.get(this.channelOf(kind, name))?.confirmed ?? false;
  }

  unsubscribe(kind: ChannelKind, name: string): void {
    const channel = this.channelOf(kind, name);
    const entry = this.channels.get(channel);
    if (entry === undefined) return;
    this.channels.delete(channel);
    entry.wake(); // nobody waits for a channel that is no longer wanted
    // Not ready: the connection has no subscriptions, and 'ready' subscribes only what is wanted.
    if (this.sub.status !== 'ready') return;
    this.sub.unsubscribe(channel).catch((err: unknown) => this.opts.log(`unsubscribe ${channel} failed: ${(err as Error).message}`));
  }

  private sendSubscribe(channels: string[]): void {
    this.sub.subscribe(...channels).then(
      () => {
        for (const ch of channels) {
          const entry = this.channels.get(ch);
          if (entry === undefined || entry.confirmed) continue;
          entry.confirmed = true;
          entry.wake();
          let wake: () => void = () => undefined;
          entry.waiter = new Promise<void>((resolve) => (wake = resolve));
          entry.wake = wake;
        }
      },
      // The connection dropped: the next 'ready' subscribes again.
      (err: unknown) => this.opts.log(`subscribe of ${channels.length} channel(s) failed: ${(err as Error).message}`),
    );
  }

  private resubscribeAll(): void {
    const wanted = [...this.channels.keys()];
    for (let i = 0; i < wanted.length; i += 1000) this.sendSubscribe(wanted.slice(i, i + 1000));
  }

  /** Channels this node is subscribed to, by kind (for /stats and tests). */
  subscriptions(kind: ChannelKind): number {
    let n = 0;
    for (const c of this.channels.values()) if (c.kind === kind) n++;
    return n;
  }

  /** Publishes a client-ready frame on the channel, for the other nodes. */
  publish(kind: ChannelKind, name: string, frame: Buffer): void {
    this.pub.publish(this.channelOf(kind, name), Buffer.concat([this.origin, frame])).catch(() => {
      this.publishErrors++;
    });
  }

  /** Node ids in the registry (keys with a TTL: live nodes only). */
  async instances(): Promise<string[]> {
    const prefix = this.layout.instanceKeyPattern.slice(0, -1);
    const ids: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.pub.scan(cursor, 'MATCH', this.layout.instanceKeyPattern, 'COUNT', 100);
      cursor = next;
      for (const k of keys) ids.push(k.slice(prefix.length));
    } while (cursor !== '0');
    return ids.sort();
  }

  /** Other nodes heard from within the registry TTL. */
  knownPeers(): string[] {
    const cutoff = Date.now() - this.layout.instanceTtlSec * 1000;
    return [...this.peers].filter(([, at]) => at >= cutoff).map(([id]) => id).sort();
  }

  /** Unregisters this node, tells the others, closes both connections. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.heartbeat) clearInterval(this.heartbeat);
      if (this.pub.status === 'ready') {
        await settleWithin(
          Promise.all([
            this.pub.del(this.layout.instanceKey(this.nodeId)),
            this.pub.publish(this.layout.instances, this.announce('node_shutdown')),
          ]),
          1000,
        );
      }
      await Promise.all([quitRedis(this.pub), quitRedis(this.sub)]);
    })();
    return this.closed;
  }

  private announce(type: 'heartbeat' | 'node_shutdown'): Buffer {
    return Buffer.concat([this.origin, Buffer.from(JSON.stringify({ type, nodeId: this.nodeId, timestamp: Date.now(), stats: this.opts.stats() }))]);
  }

  private async beat(): Promise<void> {
    const body = JSON.stringify({ nodeId: this.nodeId, timestamp: Date.now(), stats: this.opts.stats() });
    try {
      await this.pub.set(this.layout.instanceKey(this.nodeId), body, 'EX', this.layout.instanceTtlSec);
      await this.pub.publish(this.layout.instances, this.announce('heartbeat'));
    } catch (err) {
      this.opts.log(`heartbeat failed: ${(err as Error).message}`);
    }
  }

  private onMessage(channelBuf: Buffer, message: Buffer): void {
    const o = this.origin;
    // Our own message: delivered locally when it was published.
    if (message.length >= o.length && message.compare(o, 0, o.length, 0, o.length) === 0) return;
    const nl = message.indexOf(NEWLINE);
    if (nl < 0) return;
    const entry = this.channels.get(channelBuf.toString());
    if (!entry) return; // unsubscribed meanwhile
    const frame = message.subarray(nl + 1);
    switch (entry.kind) {
      case 'room':
        this.handlers.onRoom(entry.name, frame);
        return;
      case 'user':
        this.handlers.onUser(entry.name, frame);
        return;
      case 'global':
        this.handlers.onGlobal(frame);
        return;
      case 'instances': {
        const from = message.subarray(0, nl).toString();
        try {
          const { type } = JSON.parse(frame.toString()) as { type?: string };
          if (type === 'node_shutdown') {
            this.peers.delete(from);
          } else {
            const isNew = !this.peers.has(from);
            this.peers.set(from, Date.now());
            // Answer a node we did not know yet, so nodes that start together learn of each
            // other without waiting a heartbeat period.
            if (isNew) this.pub.publish(this.layout.instances, this.announce('heartbeat')).catch(() => undefined);
          }
        } catch {
          // not ours
        }
        return;
      }
    }
  }
}
