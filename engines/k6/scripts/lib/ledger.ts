/**
 * One receiver's delivery accounting in a k6 script (pure: vitest tests it). The same
 * classification as load/delivery-ledger.ts, per (receiver, publisher) stream of seqs 0…expected−1:
 * - `new`        first arrival of an expected seq, in order;
 * - `reordered`  first arrival of an expected seq lower than the highest already received (it
 *                counts as received too; a duplicate is never also reordered);
 * - `duplicate`  a later arrival of a seq already received;
 * - `unexpected` a seq outside 0…expected−1 (or not an integer).
 * A stream keeps one byte per expected seq (a publisher sends rate × (warm-up + duration) seqs).
 */
export type Arrival = 'new' | 'reordered' | 'duplicate' | 'unexpected';

interface Stream {
  seen: Uint8Array;
  highest: number;
}

export class ReceiverLedger {
  private readonly streams = new Map<number, Stream>();

  /** `expected`: seqs the publisher is scheduled to send. Returns whether this arrival opened the stream too. */
  record(pub: number, seq: number, expected: number): { kind: Arrival; firstOfStream: boolean } {
    if (!Number.isInteger(seq) || seq < 0 || seq >= expected) return { kind: 'unexpected', firstOfStream: false };
    let s = this.streams.get(pub);
    const firstOfStream = s === undefined;
    if (!s) {
      s = { seen: new Uint8Array(expected), highest: -1 };
      this.streams.set(pub, s);
    }
    if (s.seen[seq]) return { kind: 'duplicate', firstOfStream };
    s.seen[seq] = 1;
    if (seq < s.highest) return { kind: 'reordered', firstOfStream };
    s.highest = seq;
    return { kind: 'new', firstOfStream };
  }

  /** Streams heard from. */
  get streamCount(): number {
    return this.streams.size;
  }
}
