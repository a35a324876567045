import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCompactLatencyHistogram, createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import { addSparse, recordStats, recordUs, recordUsInto, resetRecordStats, sparseCounts } from './histogram-record.js';

describe('recordUsInto', () => {
  it('records exactly what recordUs records into each histogram, dense and packed, anomalies and clamps included', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double({ min: -10, max: 2e8, noNaN: false }), fc.integer({ min: 0, max: 5_000_000 })), { maxLength: 200 }), fc.boolean(), (values, withD) => {
        const mk = () => [createLatencyHistogram(), createCompactLatencyHistogram(), createLatencyHistogram(), createLatencyHistogram()];
        const one = mk();
        const many = mk();
        resetRecordStats();
        const given1 = values.map((v) => one.slice(0, withD ? 4 : 3).map((h) => recordUs(h, v))[0]);
        const stats1 = { ...recordStats };
        resetRecordStats();
        const given2 = values.map((v) => recordUsInto(many[0], many[1], many[2], withD ? many[3] : null, v));
        expect({ ...recordStats }).toEqual(stats1);
        expect(given2).toEqual(given1);
        for (let i = 0; i < 4; i++) {
          expect(encodeHistogram(many[i])).toBe(encodeHistogram(one[i]));
          expect([many[i].totalCount, many[i].minNonZeroValue, many[i].maxValue]).toEqual([one[i].totalCount, one[i].minNonZeroValue, one[i].maxValue]);
        }
      }),
      { numRuns: 50 },
    );
  });
});

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
