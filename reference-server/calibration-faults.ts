/**
 * CALIBRATION FAULTS: deliberately broken behaviour for `wsbench calibrate`. This is not a feature.
 *
 * Off by default. `--calibration-fault <spec>` (repeatable, or comma-separated) makes a reference
 * node misbehave in a known, exactly countable way. wsbench can then show that it measures exactly
 * what was injected (issue #10). Every variant (socketio, ws, bun) applies the faults at the same
 * place: **where the node writes one room broadcast to its local members of the room**. There are
 * two such paths:
 *
 * - *same-node*: the node's own members get a message one of its clients published;
 * - *cross-node*: the node got the message from another node through Redis. For socket.io this is
 *   the redis adapter's handling of a remote broadcast; for ws and Bun it is the Redis bus's room
 *   handler.
 *
 * A broadcast for a room with no local members is not delivered, so it is not counted either.
 *
 * Specs (a room name must not contain `,`; `:<room>` limits a fault to that room, otherwise it
 * applies to every room):
 *
 * | spec | what the node does |
 * |---|---|
 * | `delay-cross=<ms>[:<room>]` | holds every cross-node broadcast for `ms` milliseconds before writing it, measured on CLOCK_MONOTONIC, never less. Same-node broadcasts are not delayed |
 * | `drop-every=<k>[:<room>]` | drops the k-th, 2k-th, … broadcast it delivers for each room |
 * | `dup-every=<m>[:<room>]` | writes the m-th, 2m-th, … broadcast it delivers for each room twice |
 * | `swap-pairs[:<room>]` | writes broadcasts 1 and 2, 3 and 4, … of each room in swapped order. The first of a pair waits at most SWAP_HOLD_MS for its partner, then goes out alone |
 * | `leak-room=<k>[:<room>]` | also writes the k-th, 2k-th, … broadcast of each room to this node's clients that are NOT members of the room (a room-isolation bug; the members get it as usual) |
 *
 * The counters are kept per node (process) and per room, from the node's start. A node that has
 * members of room R, and receives B broadcasts for R, loses floor(B/k) of them to `drop-every=k`,
 * so each of its members loses floor(B/k). `dup-every=m` sends floor(B/m) duplicates, and
 * `swap-pairs` reorders floor(B/2) (one reorder per swapped pair). The faults apply in the order
 * drop → dup → swap → delay. A dropped broadcast is not counted by the later faults. The counts
 * are exact for one publisher per room, which is what calibrate uses. With several publishers, a
 * swapped pair can hold messages from two different publishers, and that is not a reorder.
 *
 * No imports: the Node and Bun entry points load this module alike.
 */

export type CalibrationFault =
  | { kind: 'delay-cross'; ms: number; room?: string }
  | { kind: 'drop-every'; every: number; room?: string }
  | { kind: 'dup-every'; every: number; room?: string }
  | { kind: 'swap-pairs'; room?: string }
  | { kind: 'leak-room'; every: number; room?: string };

/** Longest the first broadcast of a `swap-pairs` pair waits for the second, ms. */
export const SWAP_HOLD_MS = 1000;
/** Largest `delay-cross`, ms. */
export const MAX_DELAY_MS = 60_000;

const SPEC = /^(delay-cross|drop-every|dup-every|leak-room)=(\d+)(?::(.+))?$|^(swap-pairs)(?::(.+))?$/;

/** The spec of one fault, as `--calibration-fault` takes it. */
export function formatCalibrationFault(f: CalibrationFault): string {
  const room = f.room === undefined ? '' : `:${f.room}`;
  switch (f.kind) {
    case 'delay-cross':
      return `delay-cross=${f.ms}${room}`;
    case 'drop-every':
    case 'dup-every':
    case 'leak-room':
      return `${f.kind}=${f.every}${room}`;
    case 'swap-pairs':
      return `swap-pairs${room}`;
  }
}

/**
 * Parses `--calibration-fault` values: each may hold several specs separated by commas. Throws an
 * Error that names the bad spec.
 */
export function parseCalibrationFaults(values: readonly string[]): CalibrationFault[] {
  const out: CalibrationFault[] = [];
  for (const value of values) {
    for (const raw of value.split(',')) {
      const spec = raw.trim();
      if (spec === '') continue;
      const m = SPEC.exec(spec);
      if (m === null) {
        throw new Error(`'${spec}' is not a calibration fault (delay-cross=<ms>[:<room>], drop-every=<k>[:<room>], dup-every=<m>[:<room>], swap-pairs[:<room>], leak-room=<k>[:<room>])`);
      }
      if (m[4] === 'swap-pairs') {
        out.push({ kind: 'swap-pairs', ...(m[5] === undefined ? {} : { room: m[5] }) });
        continue;
      }
      const n = Number(m[2]);
      const room = m[3] === undefined ? {} : { room: m[3] };
      if (m[1] === 'delay-cross') {
        if (n < 1 || n > MAX_DELAY_MS) throw new Error(`'${spec}': the delay must be between 1 and ${MAX_DELAY_MS} ms`);
        out.push({ kind: 'delay-cross', ms: n, ...room });
      } else {
        if (n < 1) throw new Error(`'${spec}': every must be at least 1`);
        out.push({ kind: m[1] as 'drop-every' | 'dup-every' | 'leak-room', every: n, ...room });
      }
    }
  }
  return out;
}

/** CLOCK_MONOTONIC in µs (process.hrtime exists under Node and Bun). */
function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

interface Held {
  deliver: () => void;
  cross: boolean;
  timer: ReturnType<typeof setTimeout>;
}

interface Delayed {
  dueUs: number;
  deliver: () => void;
}

/**
 * A node's calibration faults at run time: one instance per server process. The transports hand
 * every room broadcast to `deliver`, which writes it now, later, twice or never.
 */
export class CalibrationFaults {
  readonly active: boolean;
  private readonly counters = new Map<string, number>();
  private readonly held = new Map<string, Held>();
  /** One FIFO per delay: each has a single fixed delay, so its due times only grow. */
  private readonly queues = new Map<number, { items: Delayed[]; armed: boolean }>();
  private closed = false;

  constructor(
    readonly faults: readonly CalibrationFault[],
    private readonly now: () => number = monoUs,
  ) {
    this.active = faults.length > 0;
  }

  /** One line for the node's log. */
  describe(): string {
    return `CALIBRATION FAULTS ACTIVE (deliberately broken node, for wsbench calibrate): ${this.faults.map(formatCalibrationFault).join(', ')}`;
  }

  /**
   * One broadcast for `room` is ready to be written to this node's local members (the caller has
   * checked that there is at least one). `cross`: it came from another node through Redis.
   * `write` does the writing; it may be called now, later, twice or never. `leak` writes the same
   * broadcast to this node's clients outside the room (`leak-room`; a transport without it leaks nothing).
   */
  deliver(room: string, cross: boolean, write: () => void, leak?: () => void): void {
    if (this.closed) return write();
    let times = 1;
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i];
      if (f.room !== undefined && f.room !== room) continue;
      if (f.kind === 'drop-every') {
        if (this.count(i, room) % f.every === 0) return;
      } else if (f.kind === 'dup-every') {
        if (this.count(i, room) % f.every === 0) times = 2;
      } else if (f.kind === 'leak-room') {
        if (this.count(i, room) % f.every === 0) leak?.();
      }
    }
    const once = times === 2 ? () => (write(), write()) : write;
    if (this.applies('swap-pairs', room)) this.swap(room, cross, once);
    else this.delay(room, cross, once);
  }

  /** Cancels what is held or delayed (at shutdown): nothing is written after this. */
  close(): void {
    this.closed = true;
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
    for (const q of this.queues.values()) q.items.length = 0;
  }

  private applies(kind: CalibrationFault['kind'], room: string): CalibrationFault | undefined {
    return this.faults.find((f) => f.kind === kind && (f.room === undefined || f.room === room));
  }

  /** Advances and returns the counter of fault `i` for `room` (1 for its first broadcast). */
  private count(i: number, room: string): number {
    const key = `${i}\n${room}`;
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    return n;
  }

  private swap(room: string, cross: boolean, write: () => void): void {
    const first = this.held.get(room);
    if (first === undefined) {
      const timer = setTimeout(() => {
        // The partner did not come in time: the first goes out alone, in order.
        if (this.held.get(room) !== entry) return;
        this.held.delete(room);
        this.delay(room, entry.cross, entry.deliver);
      }, SWAP_HOLD_MS);
      const entry: Held = { deliver: write, cross, timer };
      this.held.set(room, entry);
      return;
    }
    this.held.delete(room);
    clearTimeout(first.timer);
    this.delay(room, cross, write);
    this.delay(room, first.cross, first.deliver);
  }

  private delay(room: string, cross: boolean, write: () => void): void {
    const f = cross ? (this.applies('delay-cross', room) as Extract<CalibrationFault, { kind: 'delay-cross' }> | undefined) : undefined;
    if (f === undefined) return write();
    let q = this.queues.get(f.ms);
    if (q === undefined) {
      q = { items: [], armed: false };
      this.queues.set(f.ms, q);
    }
    q.items.push({ dueUs: this.now() + f.ms * 1000, deliver: write });
    if (!q.armed) this.arm(q);
  }

  /**
   * Writes what is due, then sleeps until the next due time: a timer to within 1 ms of it, then
   * setImmediate turns, so nothing goes out early and at most one loop turn late. A timer alone
   * can fire early, because Node counts timers from the loop's cached time, or up to 1 ms late.
   * The spin costs CPU, but only on a node that runs with a calibration fault.
   */
  private arm(q: { items: Delayed[]; armed: boolean }): void {
    q.armed = true;
    const tick = (): void => {
      if (this.closed) {
        q.armed = false;
        return;
      }
      const now = this.now();
      let n = 0;
      while (n < q.items.length && q.items[n].dueUs <= now) n++;
      const due = q.items.splice(0, n);
      for (const d of due) d.deliver();
      if (q.items.length === 0) {
        q.armed = false;
        return;
      }
      const waitMs = (q.items[0].dueUs - this.now()) / 1000;
      if (waitMs > 1.5) setTimeout(tick, Math.floor(waitMs - 1));
      else setImmediate(tick);
    };
    const waitMs = (q.items[0].dueUs - this.now()) / 1000;
    if (waitMs > 1.5) setTimeout(tick, Math.floor(waitMs - 1));
    else setImmediate(tick);
  }
}

/**
 * Puts the faults into a Socket.IO adapter instance (redis adapter or any other that delivers
 * through socket.io-adapter's in-memory `broadcast`). Both paths end in that method: a local emit
 * goes through `adapter.broadcast` (this node's publish, published to Redis first), and a remote
 * broadcast goes from the adapter's Redis handler straight to the in-memory `broadcast`. That
 * method calls `this._encode(packet)` and then `this.apply(opts, write)`. The hook wraps the
 * instance's `broadcast` to tell the two paths apart (by packet identity), notes the packet in `_encode`, and lets the
 * faults decide when `apply` runs. Only `msg` room broadcasts are touched. The redis adapter's
 * internals are socket.io-adapter 2.5 (`_encode`, `apply`). If they change, the calibration
 * integration tests fail.
 */
export function hookSocketIoAdapter(adapter: object, faults: CalibrationFaults): void {
  type Apply = (opts: unknown, write: (socket: unknown) => void) => void;
  const a = adapter as {
    broadcast(packet: unknown, opts: unknown): unknown;
    _encode(packet: unknown, packetOpts: unknown): unknown;
    apply: Apply;
    rooms: Map<string, Set<string>>;
  };
  if (typeof a._encode !== 'function' || typeof a.apply !== 'function' || typeof a.broadcast !== 'function') {
    throw new Error('calibration faults: this socket.io-adapter has no _encode/apply; the hook does not fit it');
  }
  const broadcast = a.broadcast;
  const encode = a._encode;
  const apply = a.apply;
  // This node's own emits, by packet identity: the same object reaches the in-memory broadcast,
  // also after an `await` (the cluster adapters' broadcast is async). A remote one is a freshly
  // decoded object.
  const local = new WeakSet<object>();
  let pending: unknown = null;
  a.broadcast = function (this: unknown, packet: unknown, opts: unknown): unknown {
    if (packet !== null && typeof packet === 'object') local.add(packet);
    return broadcast.call(this, packet, opts);
  };
  a._encode = function (this: unknown, packet: unknown, packetOpts: unknown): unknown {
    pending = packet;
    return encode.call(this, packet, packetOpts);
  };
  a.apply = function (this: typeof a, opts: unknown, write: (socket: unknown) => void): void {
    const packet = pending;
    pending = null;
    const room = msgRoom(packet);
    if (room === null || !((this.rooms.get(room)?.size ?? 0) > 0)) return apply.call(this, opts, write);
    // leak-room: the same packet to every socket of the namespace outside the room (socket.io-adapter's
    // apply with no rooms walks every socket, minus the `except` rooms).
    const o = opts as { rooms?: Set<string>; except?: Set<string> };
    faults.deliver(
      room,
      !local.has(packet as object),
      () => apply.call(this, opts, write),
      () => apply.call(this, { ...o, rooms: new Set<string>(), except: new Set([...(o.except ?? []), room]) }, write),
    );
  };
}

/** The room of a Socket.IO `msg` event packet `{type: 2, data: ['msg', {room}]}`, else null. */
function msgRoom(packet: unknown): string | null {
  if (packet === null || typeof packet !== 'object') return null;
  const data = (packet as { data?: unknown }).data;
  if (!Array.isArray(data) || data[0] !== 'msg') return null;
  const room = (data[1] as { room?: unknown } | undefined)?.room;
  return typeof room === 'string' ? room : null;
}
