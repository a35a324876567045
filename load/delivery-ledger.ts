/**
 * DeliveryLedger: accounts for every expected (message × receiver) delivery of one worker process.
 *
 * Receivers are numbered clients; publishers are numbered streams; every message carries
 * `(pub, seq)` with seq = 0, 1, 2, … per publisher. For each (receiver, pub) pair that saw at
 * least one arrival the ledger keeps a growable bitset of received seqs (1 bit per seq; the
 * fully-received prefix is dropped as it forms, so memory follows the out-of-order window, not
 * the run length) and, only when anomalies occur, a log of duplicate / reordered seqs.
 *
 * Definitions (per (receiver, pub) stream; `sent` from the expectation, expected seqs are
 * [from, sent), `from` defaulting to 0):
 * - expected   = sent − from.
 * - received   = distinct expected seqs that arrived at least once.
 * - lost       = expected − received.
 * - duplicated = arrivals of an expected seq that had already been received (each extra arrival
 *                counts once: a seq arriving 3 times adds 2).
 * - reordered  = FIRST arrivals of an expected seq lower than the highest seq already received on
 *                that stream (a duplicate is never also counted as reordered; a swapped pair
 *                counts exactly 1).
 * - unexpected = every arrival (first or repeated) of a seq outside [from, sent), plus every
 *                arrival on a stream no expectation mentions. Reported once, next to `total`.
 * - deliveryRatio = received / expected (1 when expected is 0).
 *
 * record() classifies an arrival immediately (it does not know `sent` yet), against everything
 * received so far on the stream, including seqs that later turn out to be unexpected.
 */
import type { Accounting } from '../model/run-report.js';
import { addAccounting, deliveryRatio as ratio, emptyAccounting } from '../model/accounting.js';

export type ArrivalKind = 'new' | 'duplicate' | 'reordered';

export interface DeliveryExpectation {
  receiver: number;
  pub: number;
  /** Messages the publisher sent: seqs [from, sent) were expected at `receiver`. */
  sent: number;
  /** Receiver and publisher sat on different server nodes. */
  cross: boolean;
  /** First expected seq (e.g. the receiver joined late). Default 0. */
  from?: number;
}

export interface LedgerAccounting {
  total: Accounting;
  sameNode: Accounting;
  crossNode: Accounting;
  /** Arrivals outside every expectation (see DeliveryLedger). */
  unexpected: number;
}

const FULL = 0xffffffff;
/**
 * Seqs more than this far above a stream's fully-received prefix (2^24: 2 MiB of bitset) go to a
 * sparse set instead, so one corrupt or absurd seq cannot make the bitset explode.
 */
const MAX_WINDOW = 1 << 24;

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** One (receiver, pub) stream. */
class Stream {
  constructor(readonly pub: number) {}

  /** Every seq < base has been received (base is a multiple of 32). */
  base = 0;
  /**
   * Bit (seq − base) set ⇔ seq received: in `w0` / `w1` (int32) while the window is 64 seqs, then
   * in `words`. Most streams never leave the two fields: no typed array per stream (one per
   * connection: ~105 B of heap as a slab view, ~220 B as an array of its own) and, on every
   * arrival, no view and backing store to read besides the stream itself (issue 17).
   */
  w0 = 0;
  w1 = 0;
  words: Uint32Array | null = null;
  /** Highest seq received so far, −1 if none. */
  highest = -1;
  /** Distinct seqs received. */
  distinct = 0;
  /** Seq of every duplicate arrival (null until the first). */
  dups: number[] | null = null;
  /** Seq of every reordered first arrival (null until the first). */
  reord: number[] | null = null;
  /** Received seqs too far ahead for the bitset (null until the first). */
  far: Set<number> | null = null;
  /** account() epoch in which an expectation matched this stream. */
  epoch = 0;

  record(seq: number): ArrivalKind {
    if (seq < this.base) return this.dup(seq);
    if (this.far !== null && this.far.has(seq)) return this.dup(seq);
    let off = seq - this.base;
    if (this.words === null) {
      if (off >= 64) {
        // Drop fully received leading words (as compact does).
        while (this.w0 === -1) {
          this.base += 32;
          this.w0 = this.w1;
          this.w1 = 0;
        }
        off = seq - this.base;
      }
      if (off < 32) {
        const bit = 1 << off;
        if ((this.w0 & bit) !== 0) return this.dup(seq);
        this.w0 |= bit;
        return this.first(seq);
      }
      if (off < 64) {
        const bit = 1 << (off - 32);
        if ((this.w1 & bit) !== 0) return this.dup(seq);
        this.w1 |= bit;
        return this.first(seq);
      }
      // The window outgrows the two fields: an array from here on.
      this.words = Uint32Array.of(this.w0, this.w1);
    }
    if (off >= this.words.length * 32) {
      this.compact();
      off = seq - this.base;
      if (off >= MAX_WINDOW) {
        (this.far ??= new Set()).add(seq);
        return this.first(seq);
      }
      const need = (off >>> 5) + 1;
      if (need > this.words.length) {
        let len = this.words.length * 2;
        while (len < need) len *= 2;
        const grown = new Uint32Array(len);
        grown.set(this.words);
        this.words = grown;
      }
    }
    const w = off >>> 5;
    const bit = 1 << (off & 31);
    const word = this.words[w];
    if ((word & bit) !== 0) return this.dup(seq);
    this.words[w] = word | bit;
    return this.first(seq);
  }

  private first(seq: number): ArrivalKind {
    this.distinct++;
    if (seq > this.highest) {
      this.highest = seq;
      return 'new';
    }
    (this.reord ??= []).push(seq);
    return 'reordered';
  }

  private dup(seq: number): ArrivalKind {
    (this.dups ??= []).push(seq);
    return 'duplicate';
  }

  /** Drop fully received leading words, advancing base. */
  private compact(): void {
    const words = this.words!;
    let n = 0;
    while (n < words.length && words[n] === FULL) n++;
    if (n === 0) return;
    words.copyWithin(0, n);
    words.fill(0, words.length - n);
    this.base += n * 32;
  }

  /** Seqs the bitset covers from base. */
  private bits(): number {
    return this.words === null ? 64 : this.words.length * 32;
  }

  /** Word i of the bitset, unsigned. */
  private wordAt(i: number): number {
    const w = this.words;
    return w === null ? (i === 0 ? this.w0 : this.w1) >>> 0 : w[i];
  }

  /** True when `seq` was received at least once. */
  has(seq: number): boolean {
    if (seq < this.base) return true;
    if (this.far !== null && this.far.has(seq)) return true;
    const off = seq - this.base;
    if (off >= this.bits()) return false;
    return (this.wordAt(off >>> 5) & (1 << (off & 31))) !== 0;
  }

  /** Distinct received seqs in [lo, hi). */
  countRange(lo: number, hi: number): number {
    if (hi <= lo) return 0;
    let count = 0;
    if (this.far !== null) for (const s of this.far) if (s >= lo && s < hi) count++;
    if (lo < this.base) {
      count += Math.min(hi, this.base) - lo;
      lo = this.base;
      if (hi <= lo) return count;
    }
    const end = Math.min(hi - this.base, this.bits());
    let off = lo - this.base;
    if (off >= end) return count;
    // Leading partial word.
    while (off < end && (off & 31) !== 0) {
      if ((this.wordAt(off >>> 5) & (1 << (off & 31))) !== 0) count++;
      off++;
    }
    // Whole words.
    while (off + 32 <= end) {
      count += popcount32(this.wordAt(off >>> 5));
      off += 32;
    }
    // Trailing partial word.
    while (off < end) {
      if ((this.wordAt(off >>> 5) & (1 << (off & 31))) !== 0) count++;
      off++;
    }
    return count;
  }
}

function countIn(list: number[] | null, lo: number, hi: number): number {
  if (list === null) return 0;
  let n = 0;
  for (const s of list) if (s >= lo && s < hi) n++;
  return n;
}

/** One (receiver, pub) stream of a ledger: `record(seq)` as DeliveryLedger#record, without lookups. */
export interface LedgerStream {
  record(seq: number): ArrivalKind;
}

export class DeliveryLedger {
  /**
   * Per receiver: its one stream (most receivers hear one publisher), or a map by publisher once
   * it has a second — one object per receiver instead of a map's hash table (issue 17: memory).
   */
  private readonly receivers = new Map<number, Stream | Map<number, Stream>>();
  private epoch = 0;

  /**
   * Record one arrival at `receiver` of message `seq` from publisher `pub`. O(1) amortized.
   * `seq` must be a non-negative integer (anything else throws RangeError).
   */
  record(receiver: number, pub: number, seq: number): ArrivalKind {
    if (!Number.isInteger(seq) || seq < 0) throw new RangeError(`invalid seq ${seq}`);
    return this.streamOf(receiver, pub).record(seq);
  }

  /**
   * The (receiver, pub) stream itself, created on first use: a receiver that keeps it records
   * each arrival without the lookups of `record`.
   */
  stream(receiver: number, pub: number): LedgerStream {
    return this.streamOf(receiver, pub);
  }

  private streamOf(receiver: number, pub: number): Stream {
    const r = this.receivers.get(receiver);
    if (r === undefined) {
      const s = new Stream(pub);
      this.receivers.set(receiver, s);
      return s;
    }
    if (r instanceof Stream) {
      if (r.pub === pub) return r;
      const s = new Stream(pub);
      this.receivers.set(
        receiver,
        new Map([
          [r.pub, r],
          [pub, s],
        ]),
      );
      return s;
    }
    let s = r.get(pub);
    if (s === undefined) {
      s = new Stream(pub);
      r.set(pub, s);
    }
    return s;
  }

  /** The (receiver, pub) stream if any arrived. */
  private find(receiver: number, pub: number): Stream | undefined {
    const r = this.receivers.get(receiver);
    return r === undefined ? undefined : r instanceof Stream ? (r.pub === pub ? r : undefined) : r.get(pub);
  }

  /** True when `receiver` received `seq` of `pub` at least once. */
  has(receiver: number, pub: number, seq: number): boolean {
    return this.find(receiver, pub)?.has(seq) ?? false;
  }

  /** Seqs in [from, to) of `pub` that `receiver` never received, ascending. */
  *missing(receiver: number, pub: number, from: number, to: number): Generator<number> {
    const s = this.find(receiver, pub);
    for (let seq = Math.max(0, from); seq < to; seq++) if (s === undefined || !s.has(seq)) yield seq;
  }

  /**
   * Account every expected delivery (definitions in the module comment). Each (receiver, pub)
   * pair should appear once; if it appears again, the later entry is ignored except that its
   * range widens the first one's (min from, max sent). Non-destructive: may be called again.
   */
  account(expectations: Iterable<DeliveryExpectation>): LedgerAccounting {
    // Merge repeated pairs first.
    const merged = new Map<number, Map<number, { from: number; sent: number; cross: boolean }>>();
    for (const e of expectations) {
      const from = Math.max(0, e.from ?? 0);
      const sent = Math.max(0, e.sent);
      let byPub = merged.get(e.receiver);
      if (byPub === undefined) {
        byPub = new Map();
        merged.set(e.receiver, byPub);
      }
      const prev = byPub.get(e.pub);
      if (prev === undefined) byPub.set(e.pub, { from, sent, cross: e.cross });
      else {
        prev.from = Math.min(prev.from, from);
        prev.sent = Math.max(prev.sent, sent);
      }
    }

    const epoch = ++this.epoch;
    const same = emptyAccounting();
    const cross = emptyAccounting();
    let unexpected = 0;

    for (const [receiver, byPub] of merged) {
      for (const [pub, x] of byPub) {
        const acc = x.cross ? cross : same;
        const expected = Math.max(0, x.sent - x.from);
        acc.expected += expected;
        const s = this.find(receiver, pub);
        if (s === undefined) {
          acc.lost += expected;
          continue;
        }
        s.epoch = epoch;
        const received = s.countRange(x.from, x.sent);
        const dupIn = countIn(s.dups, x.from, x.sent);
        acc.received += received;
        acc.lost += expected - received;
        acc.duplicated += dupIn;
        acc.reordered += countIn(s.reord, x.from, x.sent);
        unexpected += s.distinct - received + (s.dups === null ? 0 : s.dups.length - dupIn);
      }
    }

    // Streams no expectation mentioned: every arrival is unexpected.
    for (const r of this.receivers.values()) {
      for (const s of r instanceof Stream ? [r] : r.values()) {
        if (s.epoch !== epoch) unexpected += s.distinct + (s.dups === null ? 0 : s.dups.length);
      }
    }

    same.deliveryRatio = ratio(same.received, same.expected);
    cross.deliveryRatio = ratio(cross.received, cross.expected);
    return { total: addAccounting(same, cross), sameNode: same, crossNode: cross, unexpected };
  }
}
