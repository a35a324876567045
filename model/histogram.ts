/**
 * HDR latency histograms. Every histogram in wsbench stores MICROSECONDS (from common/clock.ts
 * nowUs()), range 1 µs … 120 s, 3 significant digits (≤ 0.1 % value error), plain JS
 * implementation (no WebAssembly: nothing to free, safe to pass around and merge), fixed range
 * (auto-resize off, so histograms from different workers always merge).
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { MetricSummary } from './run-report.js';

/** Lowest trackable value: 1 µs. */
export const HIST_LOWEST_US = 1;
/** Highest trackable value: 120 s in µs. Larger values are clamped to it. */
export const HIST_HIGHEST_US = 120_000_000;
export const HIST_SIGNIFICANT_DIGITS = 3;

export function createLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: HIST_LOWEST_US,
    highestTrackableValue: HIST_HIGHEST_US,
    numberOfSignificantValueDigits: HIST_SIGNIFICANT_DIGITS,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });
}

/**
 * The same range and precision as createLatencyHistogram, in a packed array whose memory follows
 * the number of distinct values seen rather than the range (per-second buckets of long runs).
 */
export function createCompactLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: HIST_LOWEST_US,
    highestTrackableValue: HIST_HIGHEST_US,
    numberOfSignificantValueDigits: HIST_SIGNIFICANT_DIGITS,
    bitBucketSize: 'packed',
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Compressed base64 (HdrHistogram V2 "HISTFAA…" format, readable by other HDR implementations). */
export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): Histogram {
  return decodeFromCompressedBase64(s, 32, false);
}

/** Decode each string and add() it into a fresh latency histogram. Throws on malformed input. */
export function mergeEncoded(encoded: string[]): Histogram {
  const out = createLatencyHistogram();
  for (const s of encoded) {
    const h = decodeHistogram(s);
    out.add(h);
  }
  return out;
}

function convert(us: number, unit: 'ms' | 'us'): number {
  const v = unit === 'ms' ? us / 1000 : us;
  return Math.round(v * 1000) / 1000;
}

/**
 * Summarize a µs histogram, converting to ms (3 decimal places) or keeping µs (3 decimal places
 * for the mean). All numbers are computed from the bucket counts, so a histogram and its
 * encode/decode/merge round trip summarize identically: min is the lowest and max the highest
 * value equivalent (within HDR precision) to the smallest/largest recorded value. `hdr` carries
 * the encoded histogram. An empty histogram yields count 0 and all numbers 0.
 */
export function summarizeUs(h: Histogram, unit: 'ms' | 'us'): MetricSummary {
  const count = h.totalCount;
  if (count === 0) {
    return {
      unit, count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0,
      hdr: encodeHistogram(h),
    };
  }
  return {
    unit,
    count,
    min: convert(h.getValueAtPercentile(0), unit),
    mean: convert(h.mean, unit),
    p50: convert(h.getValueAtPercentile(50), unit),
    p90: convert(h.getValueAtPercentile(90), unit),
    p95: convert(h.getValueAtPercentile(95), unit),
    p99: convert(h.getValueAtPercentile(99), unit),
    p999: convert(h.getValueAtPercentile(99.9), unit),
    max: convert(h.getValueAtPercentile(100), unit),
    hdr: encodeHistogram(h),
  };
}
