/**
 * One receiver's delivery accounting in a k6 script (pure: vitest tests it). The same
 * classification as load/delivery-ledger.ts, per (receiver, publisher) stream of seqs 0…expected−1:
 * - `new`        first arrival of an expected seq, in order;
 * - `reordered`  first arrival of an expected seq lower than the highest already received (it
 *                counts as received too; a duplicate is never also reordered);
 * - `duplicate`  a later arrival of a seq already received;
 * - `unexpected` a seq outside 0…expected−1 (or not an integer).
 * A stream keeps one byte per expected seq (a publisher sends rate × (warm-up + duration) seqs).
 *
 * At the end (`close`) every seq of every PLANNED stream is expected — whether or not its publisher
 * got it out — and every one that did not arrive is classified as load/worker.ts does: lost while
 * the publisher was down (its down spans travel in its payloads), lost while the receiver was down
 * (its own spans), else lost while both were connected. A span counts from `marginMs` before the
 * drop (messages in flight then).
 */
import { windowOf, type PlannedWindow } from './plan';

export type Arrival = 'new' | 'reordered' | 'duplicate' | 'unexpected';
export type Path = 'same' | 'cross' | 'unknown';
export type LossClass = 'connected' | 'disconnected' | 'publisher_down';

/** A span of time (ms after t0) a connection was down: [from, to), `to` null while still down. */
export type Span = [number, number | null];

interface Stream {
  seen: Uint8Array;
  highest: number;
  /** Path of the last arrival (the publisher's node against the receiver's). */
  path: Path;
  /** The publisher's down spans, as its latest payload told them. */
  pubDown: Span[];
}

/** One row of a receiver's closing tally: a (path, window) cell. */
export interface TallyCell {
  path: Path;
  /** Planned window of the intended send time, or null (no windows planned / outside them). */
  window: string | null;
  expected: number;
  /** First arrivals (received) of those expected deliveries. */
  received: number;
  lost: Record<LossClass, number>;
}

export function inSpans(spans: readonly Span[], t: number, marginMs: number, openEnd: number): boolean {
  for (const [a, b] of spans) if (t >= a - marginMs && t < (b ?? openEnd)) return true;
  return false;
}

export class ReceiverLedger {
  private readonly streams = new Map<number, Stream>();

  /** `expected`: seqs the publisher is scheduled to send. Returns whether this arrival opened the stream too. */
  record(pub: number, seq: number, expected: number, info?: { path: Path; pubDown?: Span[] }): { kind: Arrival; firstOfStream: boolean } {
    if (!Number.isInteger(seq) || seq < 0 || seq >= expected) return { kind: 'unexpected', firstOfStream: false };
    let s = this.streams.get(pub);
    const firstOfStream = s === undefined;
    if (!s) {
      s = { seen: new Uint8Array(expected), highest: -1, path: 'unknown', pubDown: [] };
      this.streams.set(pub, s);
    }
    if (info) {
      s.path = info.path;
      if (info.pubDown) s.pubDown = info.pubDown;
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

  /**
   * Expected and lost deliveries of the planned streams `pubs` (each `perPublisher` seqs, intended
   * at `intendedMs(pub, seq)`), by path and planned window. `down` are the receiver's own spans
   * (from before its first join until the join, and from each drop until its rejoin).
   */
  close(input: {
    pubs: readonly number[];
    perPublisher: number;
    intendedMs(pub: number, seq: number): number;
    down: readonly Span[];
    marginMs: number;
    windows?: readonly PlannedWindow[];
    /** ms after t0 standing in for an open span's end (the receiver's close time). */
    endMs: number;
  }): TallyCell[] {
    const cells = new Map<string, TallyCell>();
    const cell = (path: Path, window: string | null): TallyCell => {
      const k = `${path}|${window ?? ''}`;
      let c = cells.get(k);
      if (!c) {
        c = { path, window, expected: 0, received: 0, lost: { connected: 0, disconnected: 0, publisher_down: 0 } };
        cells.set(k, c);
      }
      return c;
    };
    for (const pub of input.pubs) {
      const s = this.streams.get(pub);
      // One path per stream (its last arrival's): expected and received of a stream land in one cell.
      const path: Path = s ? s.path : 'unknown';
      for (let seq = 0; seq < input.perPublisher; seq++) {
        const t = input.intendedMs(pub, seq);
        const c = cell(path, windowOf(t, input.windows)?.name ?? null);
        c.expected++;
        if (s && s.seen[seq]) {
          c.received++;
          continue;
        }
        if (s && inSpans(s.pubDown, t, input.marginMs, input.endMs)) c.lost.publisher_down++;
        else if (inSpans(input.down, t, input.marginMs, input.endMs)) c.lost.disconnected++;
        else c.lost.connected++;
      }
    }
    return [...cells.values()];
  }
}
