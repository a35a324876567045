import { beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HIST_HIGHEST_US,
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeEncoded,
  summarizeUs,
} from './histogram.js';
import { recordStats, recordUs, resetRecordStats } from '../load/histogram-record.js';

describe('histogram', () => {
  beforeEach(() => resetRecordStats());

  it('is a fixed-range JS histogram', () => {
    const h = createLatencyHistogram();
    expect(h.autoResize).toBe(false);
    expect(h.highestTrackableValue).toBeGreaterThanOrEqual(HIST_HIGHEST_US);
    expect(h.numberOfSignificantValueDigits).toBe(3);
    expect(h.constructor.name).not.toMatch(/Wasm/);
  });

  it('summarizes 1..1000 ms in ms within HDR precision', () => {
    const h = createLatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) expect(recordUs(h, ms * 1000)).toBe(true);
    const s = summarizeUs(h, 'ms');
    expect(s.unit).toBe('ms');
    expect(s.count).toBe(1000);
    const close = (actual: number, want: number) => expect(Math.abs(actual - want)).toBeLessThanOrEqual(want * 0.001 + 0.001);
    close(s.min, 1);
    close(s.mean, 500.5);
    close(s.p50, 500);
    close(s.p90, 900);
    close(s.p95, 950);
    close(s.p99, 990);
    close(s.p999, 999);
    close(s.max, 1000);
    // 3 decimal places
    for (const v of [s.min, s.mean, s.p50, s.p99, s.max]) expect(Math.round(v * 1000) / 1000).toBe(v);
    expect(typeof s.hdr).toBe('string');
    expect(decodeHistogram(s.hdr!).totalCount).toBe(1000);
  });

  it('summarizes in µs without conversion', () => {
    const h = createLatencyHistogram();
    for (const v of [10, 20, 30]) recordUs(h, v);
    const s = summarizeUs(h, 'us');
    expect(s).toMatchObject({ unit: 'us', count: 3, min: 10, p50: 20, max: 30, mean: 20 });
  });

  it('empty histogram: all zeros', () => {
    const s = summarizeUs(createLatencyHistogram(), 'ms');
    expect(s).toMatchObject({ unit: 'ms', count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 });
    expect(decodeHistogram(s.hdr!).totalCount).toBe(0);
  });

  it('clamps and counts anomalies', () => {
    const h = createLatencyHistogram();
    expect(recordUs(h, -5)).toBe(false);
    expect(recordUs(h, Number.NaN)).toBe(false);
    expect(recordUs(h, 0)).toBe(true); // sub-resolution, recorded as 1 µs
    expect(recordUs(h, 0.4)).toBe(true);
    expect(recordUs(h, 500_000_000)).toBe(false);
    expect(recordUs(h, 12.6)).toBe(true); // rounded to 13
    expect(recordStats).toEqual({ anomalies: 2, clampedHigh: 1 });
    expect(h.totalCount).toBe(6);
    expect(h.getValueAtPercentile(0)).toBe(1);
    expect(h.getValueAtPercentile(100)).toBeGreaterThanOrEqual(HIST_HIGHEST_US);
    expect(h.getValueAtPercentile(100)).toBeLessThanOrEqual(HIST_HIGHEST_US * 1.001);
    resetRecordStats();
    expect(recordStats).toEqual({ anomalies: 0, clampedHigh: 0 });
  });

  it('encode/decode round trip preserves counts, percentiles and summary', () => {
    const h = createLatencyHistogram();
    for (let i = 0; i < 5000; i++) recordUs(h, 1 + ((i * 7919) % 2_000_000));
    const d = decodeHistogram(encodeHistogram(h));
    expect(d.totalCount).toBe(h.totalCount);
    for (const p of [0, 50, 90, 99, 99.9, 100]) expect(d.getValueAtPercentile(p)).toBe(h.getValueAtPercentile(p));
    const { hdr: _a, ...sh } = summarizeUs(h, 'ms');
    const { hdr: _b, ...sd } = summarizeUs(d, 'ms');
    expect(sd).toEqual(sh);
  });

  it('mergeEncoded of nothing is empty', () => {
    expect(mergeEncoded([]).totalCount).toBe(0);
  });

  it('property: merging K encoded histograms equals one histogram of the concatenation', () => {
    const value = fc.oneof(
      fc.integer({ min: -10, max: 5000 }),
      fc.integer({ min: 1, max: 10_000_000 }),
      fc.integer({ min: 1, max: 200_000_000 }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 200 }), { minLength: 1, maxLength: 6 }), (lists) => {
        const all = createLatencyHistogram();
        const encoded = lists.map((list) => {
          const h = createLatencyHistogram();
          for (const v of list) {
            recordUs(h, v);
            recordUs(all, v);
          }
          return encodeHistogram(h);
        });
        const merged = mergeEncoded(encoded);
        expect(merged.totalCount).toBe(all.totalCount);
        for (const p of [50, 99, 100]) expect(merged.getValueAtPercentile(p)).toBe(all.getValueAtPercentile(p));
        const { hdr: _m, ...sm } = summarizeUs(merged, 'ms');
        const { hdr: _a, ...sa } = summarizeUs(all, 'ms');
        expect(sm).toEqual(sa);
      }),
      { numRuns: 100 },
    );
  });
});
