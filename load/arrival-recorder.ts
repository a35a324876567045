import type { Histogram } from 'hdr-histogram-js';
import { nowUs } from '../common/clock.js';
import { DeliveryLedger, type LedgerStream } from './delivery-ledger.js';
import { createLatencyHistogram, encodeHistogram, HIST_HIGHEST_US } from '../model/histogram.js';
import { recordUs, recordUsInto } from './histogram-record.js';
import { addSparse, sparseCounts, type SparseCounts } from '../model/histogram-sparse.js';

/** What the recorder needs of a receiving client. */
export interface Receiver {
  id: number;
  /** Node the client sits on now (from `welcome`): same-node vs cross-node per arrival. */
  nodeId: string | null;
  /**
   * The room the client was dealt into and its role there. When `room` is given (the worker always
   * gives it), an arrival for another room, or at a client that is not a member, is a stray: it goes
   * to the ledger (where it counts as unexpected: `no-leak`) but is neither timed nor counted as a
   * delivery.
   */
  room?: string | null;
  role?: 'member' | 'publisher' | null;
  /** A publisher whose server echoes its messages back (`receive.echo`): its own publisher id, a receiver of that stream. */
  echoPub?: number;
  /**
   * A publisher that joined its room (`publish.join`): its own publisher id. It receives the other
   * publishers' messages of its room as a member does (its own only with `echoPub`).
   */
  joinedPub?: number;
  /**
   * Ledger streams of this receiver (kept by the recorder): the first publisher's inline, any
   * other's in a map. (Not an array indexed by publisher id: a receiver of publisher 999 would
   * hold a 1,000-slot array, 12 KB.) A receiver created with `stream`, `streamPub`, `rxNode` and
   * `rxNodeOf` already in its literal (`streamPub: -1, rxNode: -1`, the others undefined) keeps
   * them in the object itself: added later, they go to a separate property array, one more cache
   * line per delivery.
   */
  stream?: LedgerStream;
  streamPub?: number;
  moreStreams?: Map<number, LedgerStream>;
  /** The recorder's index of `nodeId` (kept by the recorder; `rxNodeOf` is the id it was taken from). */
  rxNode?: number;
  rxNodeOf?: string | null;
}

/** What a published message carries. */
export interface Payload {
  pub: number;
  seq: number;
  /** Intended send time, CLOCK_MONOTONIC µs. */
  t: number;
  /** Publisher's node. */
  n: string;
  /** Set on messages that waited in the publisher's queue while it was disconnected. */
  q?: 1;
}

/**
 * Whether `v` is a stamp the recorder can account: a numeric `seq` and a `pub` that names a ledger
 * stream (a non-negative integer). Anything else is not an arrival of the plan's traffic and is
 * dropped where stamps are parsed, as a frame without a stamp is.
 */
export function isStamp(v: unknown): v is Payload {
  if (v === null || typeof v !== 'object') return false;
  const { seq, pub } = v as Payload;
  return typeof seq === 'number' && Number.isInteger(pub) && pub >= 0;
}

/** Arrivals slower than this are kept individually, to find the *late* ones after a fault. */
export const SLOW_ARRIVAL_US = 250_000;

/**
 * One intended second's latency: same-node, cross-node, and by receiving / publishing node index.
 * While the second can still get arrivals, every histogram of it is dense (a record costs about
 * 0.15 µs, where a packed one costs 0.8 µs on this receive path — `npm run bench`) and so large
 * (~74 KB); then `sealBefore` keeps each one's non-zero counts (`SparseCounts`: varints, deflated,
 * about the encoded histogram's size; taken in 0.05–0.25 ms, where packing same / cross cost
 * 2–4 ms each and encoding a per-node one 0.1–0.6 ms, every second: issue 17) and drops it. An
 * arrival for a sealed second opens a new dense histogram, sealed at the next tick and merged at
 * collect.
 */
interface SecondBucket {
  /** Open (dense) histograms of this second; null when sealed and no late arrival came since. */
  same: Histogram | null;
  cross: Histogram | null;
  /** By the recorder's node index (see `nodes`); holes until a node has an arrival in this second. */
  rx: Array<Histogram | undefined>;
  px: Array<Histogram | undefined>;
  /** A dense histogram of this second is open. */
  open: boolean;
  /** Sealed counts: same / cross, and per node [node index, counts]. */
  sameDone: SparseCounts[];
  crossDone: SparseCounts[];
  rxDone: Array<[number, SparseCounts]>;
  pxDone: Array<[number, SparseCounts]>;
}

/** Intended seconds this far behind the current one are sealed at each tick. */
const SEAL_AFTER_S = 3;

/** Adds a second's open histogram (if any) and its sealed counts into `into`. */
function addBucket(into: Histogram, open: Histogram | null, done: SparseCounts[]): void {
  if (open !== null) into.add(open);
  for (const c of done) addSparse(into, c);
}

/**
 * The generator's receive path: for every arriving message, identity into the delivery ledger,
 * latency (receive time − intended send time) into HDR histograms by intended second, split
 * same-node / cross-node. Kept lean on purpose — it runs for every delivery (see `npm run bench`):
 * two histogram records per arrival (its intended second's bucket and the live per-second one);
 * the totals are built from the buckets when collected.
 */
export class ArrivalRecorder {
  readonly ledger = new DeliveryLedger();
  /** Latencies of messages intended before this are warm-up: accounted, not timed. */
  measureFromUs = Number.POSITIVE_INFINITY;
  /** Calibration: busy CPU µs per arrival, to make the generator the bottleneck on purpose. */
  receiveCostUs = 0;
  /** Calibration: keep every n-th arrival in `samples` (0: off, the default; calibrate/receive-log.ts). */
  sampleEvery = 0;
  private sampleCountdown = 0;
  /** Flat quadruples: receiver, pub, seq, receive time (CLOCK_MONOTONIC µs). */
  readonly samples: number[] = [];
  receivedThisSecond = 0;
  clockAnomalies = 0;
  /** Timed arrivals whose latency exceeded HIST_HIGHEST_US (120 s) and were recorded as 120 s. */
  latencyClamped = 0;
  /** Deliveries timed in the measured window, and the CPU spent from the first of them. */
  measuredDeliveries = 0;
  measuredCpuStart: NodeJS.CpuUsage | null = null;
  /**
   * CPU µs from the first timed delivery to the end of the last second that had timed deliveries
   * (the receive window; `closeCpuWindow`). Every worker has one, publisher or not.
   */
  measuredCpuUs = 0;
  private timedSinceCpu = 0;
  /** Arrivals for another room or at a non-member (stray: counted in the ledger as unexpected). */
  strays = 0;
  /** Node ids in order of first sight: the index the per-node histograms use. */
  readonly nodes: string[] = [];
  private readonly nodeIndex = new Map<string, number>();
  /** Per publisher: the node id its last arrival named, and that node's index. */
  private readonly pubNodeName: Array<string | undefined> = [];
  private readonly pubNodeIdx: number[] = [];
  /** Arrival-time histogram of the current second (the live progress line and the timeline). */
  second: Histogram = createLatencyHistogram();
  readonly queued: Histogram = createLatencyHistogram();
  /** Latency of the messages a recovered session got replayed (Socket.IO connection state recovery). */
  readonly replayed: Histogram = createLatencyHistogram();
  /** Per intended second since measureFrom: same-node and cross-node latency. */
  readonly perSecond = new Map<number, SecondBucket>();
  /** Arrivals slower than SLOW_ARRIVAL_US, with their receiving and publishing node ids. */
  readonly slowArrivals: Array<{ t: number; at: number; cross: boolean; rx: string | null; px: string }> = [];
  /** The intended second of the last timed arrival, and its bucket. */
  private lastS = Number.NaN;
  private lastBucket: SecondBucket | undefined;
  /** Cross-node arrivals per 100 ms of arrival time, from crossBinBase. */
  private crossBins: number[] = [];
  private crossBinBase = -1;

  /** The index of node `id` in `nodes` (added on first sight). */
  nodeIdx(id: string): number {
    let i = this.nodeIndex.get(id);
    if (i === undefined) {
      i = this.nodes.length;
      this.nodes.push(id);
      this.nodeIndex.set(id, i);
    }
    return i;
  }

  /** The ledger stream of `pub` at `r`, kept on `r` (see Receiver.stream). */
  private streamOf(r: Receiver, pub: number): LedgerStream {
    if (r.stream === undefined) {
      r.streamPub = pub;
      return (r.stream = this.ledger.stream(r.id, pub));
    }
    const more = (r.moreStreams ??= new Map());
    let s = more.get(pub);
    if (s === undefined) {
      s = this.ledger.stream(r.id, pub);
      more.set(pub, s);
    }
    return s;
  }

  /** A reference `msg {room, payload}`'s arrival (a missing room counts as another room). */
  onArrival(r: Receiver, data: unknown): void {
    const d = data as { room?: string; payload?: Payload } | undefined;
    const p = d?.payload;
    if (!isStamp(p)) return;
    this.onStamp(r, d!.room ?? null, p);
  }

  /**
   * A stamp's arrival at `r`. `room`: the room the message named (undefined: the profile does not
   * say where it is — then only an arrival at a client in no room is a leak).
   */
  onStamp(r: Receiver, room: string | null | undefined, p: Payload): void {
    if (this.receiveCostUs > 0) {
      // Calibration only: burn CPU as a slower generator would.
      const until = nowUs() + this.receiveCostUs;
      while (nowUs() < until);
    }
    const now = nowUs();
    const stream = r.stream !== undefined && r.streamPub === p.pub ? r.stream : this.streamOf(r, p.pub);
    if (r.room !== undefined && (r.role === 'member' ? room !== undefined && room !== r.room : r.joinedPub === undefined ? r.echoPub !== p.pub : (room !== undefined && room !== r.room) || (p.pub === r.joinedPub && r.echoPub !== p.pub))) {
      // A message for another room, or at a client that is in none: a leak (no-leak), not a delivery.
      stream.record(p.seq);
      this.strays++;
      return;
    }
    // A duplicate's latency is not a delivery latency; it is counted in the ledger only, and
    // deliveries per second count first arrivals only.
    if (stream.record(p.seq) === 'duplicate') return;
    this.receivedThisSecond++;
    const lat = now - p.t;
    if (lat < 0) this.clockAnomalies++;
    const cross = p.n !== r.nodeId;
    if (lat > SLOW_ARRIVAL_US) this.slowArrivals.push({ t: p.t, at: now, cross, rx: r.nodeId, px: p.n });
    if (cross) {
      const bin = Math.floor(now / 100_000);
      if (this.crossBinBase < 0) this.crossBinBase = bin;
      const i = bin - this.crossBinBase;
      if (i >= 0) this.crossBins[i] = (this.crossBins[i] ?? 0) + 1;
    }
    if (p.t < this.measureFromUs) return;
    // Above the histogram's range (120 s) a latency is recorded as 120 s: count it, so the report says so.
    if (lat > HIST_HIGHEST_US) this.latencyClamped++;
    if (this.measuredCpuStart === null) this.measuredCpuStart = process.cpuUsage();
    this.measuredDeliveries++;
    this.timedSinceCpu++;
    // Calibration (`--receive-log`): every n-th timed arrival's receive time, for the wire cross-check.
    if (this.sampleEvery !== 0 && --this.sampleCountdown <= 0) {
      this.sampleCountdown = this.sampleEvery;
      this.samples.push(r.id, p.pub, p.seq, now);
    }
    if (p.q) {
      // Queued while its publisher was disconnected: timed from the intended send, kept apart.
      recordUs(this.queued, lat);
      return;
    }
    const s = Math.floor((p.t - this.measureFromUs) / 1e6);
    // Arrivals come in runs of the same intended second: the last bucket saves the map lookup.
    let bucket = s === this.lastS ? this.lastBucket : this.perSecond.get(s);
    if (bucket === undefined) {
      bucket = { same: createLatencyHistogram(), cross: createLatencyHistogram(), rx: [], px: [], open: true, sameDone: [], crossDone: [], rxDone: [], pxDone: [] };
      this.perSecond.set(s, bucket);
    }
    this.lastS = s;
    this.lastBucket = bucket;
    // Per-node attribution: node indexes are cached on the receiver and per publisher, so the hot
    // path does a string comparison, not a map lookup or an allocation.
    if (r.rxNodeOf !== r.nodeId) {
      r.rxNodeOf = r.nodeId;
      r.rxNode = r.nodeId === null ? -1 : this.nodeIdx(r.nodeId);
    }
    const rx = r.rxNode!;
    let px = this.pubNodeIdx[p.pub];
    if (this.pubNodeName[p.pub] !== p.n) {
      this.pubNodeName[p.pub] = p.n;
      px = this.pubNodeIdx[p.pub] = this.nodeIdx(p.n);
    }
    let hx = rx >= 0 ? bucket.rx[rx] : null;
    let hp = bucket.px[px];
    let hs = cross ? bucket.cross : bucket.same;
    if (hx === undefined || hp === undefined || hs === null) {
      // A node's first arrival in this second, or a late arrival for a sealed second.
      bucket.open = true;
      if (hx === undefined) hx = bucket.rx[rx] = createLatencyHistogram();
      if (hp === undefined) hp = bucket.px[px] = createLatencyHistogram();
      if (hs === null) hs = cross ? (bucket.cross = createLatencyHistogram()) : (bucket.same = createLatencyHistogram());
    }
    // Its intended second's same/cross bucket, the live second, the publishing and the receiving node.
    recordUsInto(hs, this.second, hp, hx, lat);
  }

  /** Keeps the counts of the histograms of intended seconds before `beforeS` and drops them (see SecondBucket). */
  sealBefore(beforeS: number): void {
    for (const [s, b] of this.perSecond) {
      if (!b.open || s >= beforeS) continue;
      b.rx.forEach((h, i) => {
        if (h !== undefined && h.totalCount > 0) b.rxDone.push([i, sparseCounts(h)]);
      });
      b.px.forEach((h, i) => {
        if (h !== undefined && h.totalCount > 0) b.pxDone.push([i, sparseCounts(h)]);
      });
      b.rx = [];
      b.px = [];
      if (b.same !== null && b.same.totalCount > 0) b.sameDone.push(sparseCounts(b.same));
      if (b.cross !== null && b.cross.totalCount > 0) b.crossDone.push(sparseCounts(b.cross));
      b.same = null;
      b.cross = null;
      b.open = false;
    }
  }

  /**
   * Extends the receive window's CPU figure to now when timed deliveries arrived since the last
   * call (called every second and at collect): a worker's CPU per delivery covers the time it was
   * receiving, whether or not it publishes.
   */
  closeCpuWindow(): void {
    if (this.measuredCpuStart === null || this.timedSinceCpu === 0) return;
    const c = process.cpuUsage(this.measuredCpuStart);
    this.measuredCpuUs = c.user + c.system;
    this.timedSinceCpu = 0;
  }

  /**
   * A message the server replayed when it resumed the receiver's session (connection state
   * recovery): into the ledger like any arrival, so it is not lost; its latency — about as long as
   * the receiver was away, it was intended during the disconnection — is kept apart, as queued
   * messages' is, instead of in the live latency figures.
   */
  onReplayed(r: Receiver, data: unknown): void {
    const now = nowUs();
    const p = (data as { payload?: Payload } | undefined)?.payload;
    if (!isStamp(p)) return;
    const stream = r.stream !== undefined && r.streamPub === p.pub ? r.stream : this.streamOf(r, p.pub);
    if (stream.record(p.seq) === 'duplicate') return;
    this.receivedThisSecond++;
    const lat = now - p.t;
    if (lat < 0) this.clockAnomalies++;
    if (lat > SLOW_ARRIVAL_US) this.slowArrivals.push({ t: p.t, at: now, cross: p.n !== r.nodeId, rx: r.nodeId, px: p.n });
    if (p.t >= this.measureFromUs) {
      if (lat > HIST_HIGHEST_US) this.latencyClamped++;
      recordUs(this.replayed, lat);
    }
  }

  /** Ends the current second: its arrivals and encoded latency histogram. */
  takeSecond(): { received: number; hdr: string } {
    this.closeCpuWindow();
    if (Number.isFinite(this.measureFromUs)) this.sealBefore(Math.floor((nowUs() - this.measureFromUs) / 1e6) - SEAL_AFTER_S);
    const out = { received: this.receivedThisSecond, hdr: encodeHistogram(this.second) };
    this.receivedThisSecond = 0;
    this.second = createLatencyHistogram();
    return out;
  }

  /** All / same-node / cross-node latency of the measured window. */
  totals(): { all: Histogram; same: Histogram; cross: Histogram } {
    const all = createLatencyHistogram();
    const same = createLatencyHistogram();
    const cross = createLatencyHistogram();
    for (const b of this.perSecond.values()) {
      addBucket(same, b.same, b.sameDone);
      addBucket(cross, b.cross, b.crossDone);
    }
    all.add(same);
    all.add(cross);
    return { all, same, cross };
  }

  /**
   * Per intended second: encoded latency (same + cross), the two arrival counts, and the latency by
   * receiving (`rx`) and publishing (`px`) node id.
   */
  perSecondEncoded(): Array<{ s: number; hdr: string; same: number; cross: number; rx: Record<string, string>; px: Record<string, string> }> {
    const byNode = (list: Array<Histogram | undefined>, done: Array<[number, SparseCounts]>) => {
      const merged = new Map<number, Histogram>();
      const of = (i: number) => {
        let m = merged.get(i);
        if (m === undefined) merged.set(i, (m = createLatencyHistogram()));
        return m;
      };
      for (const [i, c] of done) addSparse(of(i), c);
      list.forEach((h, i) => {
        if (h !== undefined && h.totalCount > 0) of(i).add(h);
      });
      const out: Record<string, string> = {};
      for (const [i, h] of merged) out[this.nodes[i]] = encodeHistogram(h);
      return out;
    };
    return [...this.perSecond].map(([s, b]) => {
      const same = createLatencyHistogram();
      const cross = createLatencyHistogram();
      addBucket(same, b.same, b.sameDone);
      addBucket(cross, b.cross, b.crossDone);
      const h = createLatencyHistogram();
      h.add(same);
      h.add(cross);
      return { s, hdr: encodeHistogram(h), same: same.totalCount, cross: cross.totalCount, rx: byNode(b.rx, b.rxDone), px: byNode(b.px, b.pxDone) };
    });
  }

  /** Cross-node arrivals per 100 ms bin (floor(µs / 100,000)), non-empty bins only. */
  crossArrivalBins(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    this.crossBins.forEach((n, i) => {
      if (n) out.push([this.crossBinBase + i, n]);
    });
    return out;
  }
}
