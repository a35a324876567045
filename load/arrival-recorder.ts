import type { Histogram } from 'hdr-histogram-js';
import { nowUs } from '../common/clock.js';
import { DeliveryLedger, type LedgerStream } from './delivery-ledger.js';
import { createCompactLatencyHistogram, createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import { recordUs } from './histogram-record.js';

/** What the recorder needs of a receiving client. */
export interface Receiver {
  id: number;
  /** Node the client sits on now (from `welcome`): same-node vs cross-node per arrival. */
  nodeId: string | null;
  /** Ledger streams of this receiver, indexed by publisher (filled by the recorder). */
  streams?: Array<LedgerStream | undefined>;
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

/** Arrivals slower than this are kept individually, to find the *late* ones after a fault. */
export const SLOW_ARRIVAL_US = 250_000;

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
  /** Deliveries timed in the measured window, and the CPU spent from the first of them. */
  measuredDeliveries = 0;
  measuredCpuStart: NodeJS.CpuUsage | null = null;
  /** Arrival-time histogram of the current second (the live progress line and the timeline). */
  second: Histogram = createLatencyHistogram();
  readonly queued: Histogram = createLatencyHistogram();
  /** Latency of the messages a recovered session got replayed (Socket.IO connection state recovery). */
  readonly replayed: Histogram = createLatencyHistogram();
  /** Per intended second since measureFrom: same-node and cross-node latency. */
  readonly perSecond = new Map<number, { same: Histogram; cross: Histogram }>();
  readonly slowArrivals: Array<{ t: number; at: number; cross: boolean }> = [];
  /** Cross-node arrivals per 100 ms of arrival time, from crossBinBase. */
  private crossBins: number[] = [];
  private crossBinBase = -1;

  onArrival(r: Receiver, data: unknown): void {
    if (this.receiveCostUs > 0) {
      // Calibration only: burn CPU as a slower generator would.
      const until = nowUs() + this.receiveCostUs;
      while (nowUs() < until);
    }
    const now = nowUs();
    const p = (data as { payload?: Payload } | undefined)?.payload;
    if (p === undefined || typeof p.seq !== 'number') return;
    this.receivedThisSecond++;
    const streams = (r.streams ??= []);
    const stream = (streams[p.pub] ??= this.ledger.stream(r.id, p.pub));
    // A duplicate's latency is not a delivery latency; it is counted in the ledger only.
    if (stream.record(p.seq) === 'duplicate') return;
    const lat = now - p.t;
    if (lat < 0) this.clockAnomalies++;
    const cross = p.n !== r.nodeId;
    if (lat > SLOW_ARRIVAL_US) this.slowArrivals.push({ t: p.t, at: now, cross });
    if (cross) {
      const bin = Math.floor(now / 100_000);
      if (this.crossBinBase < 0) this.crossBinBase = bin;
      const i = bin - this.crossBinBase;
      if (i >= 0) this.crossBins[i] = (this.crossBins[i] ?? 0) + 1;
    }
    if (p.t < this.measureFromUs) return;
    if (this.measuredCpuStart === null) this.measuredCpuStart = process.cpuUsage();
    this.measuredDeliveries++;
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
    let bucket = this.perSecond.get(s);
    if (bucket === undefined) {
      bucket = { same: createCompactLatencyHistogram(), cross: createCompactLatencyHistogram() };
      this.perSecond.set(s, bucket);
    }
    recordUs(cross ? bucket.cross : bucket.same, lat);
    recordUs(this.second, lat);
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
    if (p === undefined || typeof p.seq !== 'number') return;
    this.receivedThisSecond++;
    const streams = (r.streams ??= []);
    const stream = (streams[p.pub] ??= this.ledger.stream(r.id, p.pub));
    if (stream.record(p.seq) === 'duplicate') return;
    const lat = now - p.t;
    if (lat < 0) this.clockAnomalies++;
    if (lat > SLOW_ARRIVAL_US) this.slowArrivals.push({ t: p.t, at: now, cross: p.n !== r.nodeId });
    if (p.t >= this.measureFromUs) recordUs(this.replayed, lat);
  }

  /** Ends the current second: its arrivals and encoded latency histogram. */
  takeSecond(): { received: number; hdr: string } {
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
      same.add(b.same);
      cross.add(b.cross);
    }
    all.add(same);
    all.add(cross);
    return { all, same, cross };
  }

  /** Per intended second: encoded latency (same + cross) and the two arrival counts. */
  perSecondEncoded(): Array<{ s: number; hdr: string; same: number; cross: number }> {
    return [...this.perSecond].map(([s, b]) => {
      const h = createLatencyHistogram();
      h.add(b.same);
      h.add(b.cross);
      return { s, hdr: encodeHistogram(h), same: b.same.totalCount, cross: b.cross.totalCount };
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
