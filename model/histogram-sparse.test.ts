import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCompactLatencyHistogram, createLatencyHistogram, encodeHistogram } from './histogram.js';
import { addSparse, sparseCounts } from './histogram-sparse.js';

describe('sparseCounts / addSparse', () => {
  it('adding a histogram’s sparse counts is add() of the histogram: counts, total, min, max', () => {
    const value = fc.oneof(fc.integer({ min: 1, max: 3_000 }), fc.integer({ min: 1, max: 120_000_000 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(value, fc.integer({ min: 1, max: 2 ** 24 })), { maxLength: 300 }), fc.array(value, { maxLength: 50 }), fc.boolean(), (source, already, packedSource) => {
        const h = packedSource ? createCompactLatencyHistogram() : createLatencyHistogram();
        for (const [v, n] of source) h.recordValueWithCount(v, n);
        const viaAdd = createLatencyHistogram();
        const viaSparse = createLatencyHistogram();
        for (const v of already) {
          viaAdd.recordValue(v);
          viaSparse.recordValue(v);
        }
        viaAdd.add(h);
        addSparse(viaSparse, sparseCounts(h));
        expect(encodeHistogram(viaSparse)).toBe(encodeHistogram(viaAdd));
        expect([viaSparse.totalCount, viaSparse.minNonZeroValue, viaSparse.maxValue]).toEqual([viaAdd.totalCount, viaAdd.minNonZeroValue, viaAdd.maxValue]);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps no more bytes than the encoded histogram has characters; small ones undeflated, none for an empty one', () => {
    const h = createLatencyHistogram();
    expect(sparseCounts(h).bytes.length).toBe(0);
    for (let v = 100; v < 110; v++) h.recordValue(v);
    expect(sparseCounts(h).deflated).toBe(false);
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31; // a fixed pseudo-random spread of latencies
      h.recordValue(200 + Math.round(-Math.log((x + 1) / 2 ** 31) * 3000));
    }
    const s = sparseCounts(h);
    expect(s.deflated).toBe(true);
    expect(s.bytes.length).toBeLessThanOrEqual(encodeHistogram(h).length);
    expect(s.total).toBe(20_010);
    const back = createLatencyHistogram();
    addSparse(back, s);
    expect(encodeHistogram(back)).toBe(encodeHistogram(h));
  });
});
