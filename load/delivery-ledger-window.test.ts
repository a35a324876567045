/**
 * The ledger stream's bitset lives in two fields while its window is 64 seqs, then in an array
 * (load/delivery-ledger.ts Stream): every arrival is classified as a naive model would, across
 * both and across the switch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeliveryLedger, type ArrivalKind } from './delivery-ledger.js';

/** The definitions of delivery-ledger.ts over a plain set. */
function model(seqs: number[]): { kinds: ArrivalKind[]; received: (lo: number, hi: number) => number } {
  const seen = new Set<number>();
  let highest = -1;
  const kinds = seqs.map((s): ArrivalKind => {
    if (seen.has(s)) return 'duplicate';
    seen.add(s);
    if (s > highest) {
      highest = s;
      return 'new';
    }
    return 'reordered';
  });
  return { kinds, received: (lo, hi) => [...seen].filter((s) => s >= lo && s < hi).length };
}

describe('ledger stream window', () => {
  it('classifies and counts as the model: in-order runs, short reorders, repeats and jumps past 64', () => {
    // In order with local swaps, repeats, and occasional jumps ahead (over the two-word window or far beyond).
    const step = fc.oneof(
      { weight: 8, arbitrary: fc.constant(1) },
      { weight: 2, arbitrary: fc.integer({ min: -40, max: 40 }) },
      { weight: 1, arbitrary: fc.integer({ min: 30, max: 200 }) },
      { weight: 1, arbitrary: fc.constant(0) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 600 }), fc.nat(100), (steps, start) => {
        // (A start of 0 and steps of 1: the two fields fill and slide before any gap.)
        const seqs: number[] = [];
        let s = start;
        for (const d of steps) {
          s = Math.max(0, s + d);
          seqs.push(s);
        }
        const ledger = new DeliveryLedger();
        const stream = ledger.stream(1, 0);
        const m = model(seqs);
        expect(seqs.map((x) => stream.record(x))).toEqual(m.kinds);
        const top = Math.max(0, ...seqs) + 1;
        for (const [lo, hi] of [
          [0, top],
          [start, top],
          [Math.floor(top / 2), top],
          [0, 64],
          [32, 96],
        ]) {
          const acc = ledger.account([{ receiver: 1, pub: 0, from: lo, sent: hi, cross: false }]);
          expect(acc.total.received, `[${lo}, ${hi})`).toBe(m.received(lo, hi));
        }
        for (let x = 0; x < top; x++) expect(ledger.has(1, 0, x)).toBe(m.received(x, x + 1) === 1);
      }),
      { numRuns: 200 },
    );
  });

  it('a long in-order stream stays exact (the window slides)', () => {
    // Nothing lost in the first thousand (the two fields slide all along), then one in 97.
    const lost = (seq: number) => seq >= 1_000 && seq % 97 === 13;
    const ledger = new DeliveryLedger();
    const stream = ledger.stream(2, 5);
    for (let seq = 0; seq < 10_000; seq++) if (!lost(seq)) expect(stream.record(seq)).toBe('new');
    expect(stream.record(9_999 - 30)).toBe('duplicate');
    const acc = ledger.account([{ receiver: 2, pub: 5, sent: 10_000, cross: false }]);
    const dropped = Array.from({ length: 10_000 }, (_, i) => i).filter(lost).length;
    expect(acc.total).toMatchObject({ expected: 10_000, received: 10_000 - dropped, lost: dropped, duplicated: 1 });
  });
});
