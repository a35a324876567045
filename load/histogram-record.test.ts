import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCompactLatencyHistogram, createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import { recordStats, recordUs, recordUsInto, resetRecordStats } from './histogram-record.js';

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
