/**
 * Recording into the latency histograms (model/histogram.ts: range, codec, merge, summaries): the
 * hot path of every worker, and the tally of values it could not record as given.
 */
import type { Histogram } from 'hdr-histogram-js';
import { HIST_HIGHEST_US, HIST_LOWEST_US } from '../model/histogram.js';

/**
 * Process-wide tally of values recordUs() could not record as given. Callers report them (e.g. as
 * counters `clock_anomalies` / `latency_clamped_high`); reset with resetRecordStats().
 */
export const recordStats = {
  /** Negative, NaN or infinite inputs (clock anomalies), recorded as 1 µs. */
  anomalies: 0,
  /** Inputs above HIST_HIGHEST_US, recorded as HIST_HIGHEST_US. */
  clampedHigh: 0,
};

export function resetRecordStats(): void {
  recordStats.anomalies = 0;
  recordStats.clampedHigh = 0;
}

/**
 * Record one value in µs (rounded to an integer). Values in [0, 1) are recorded as 1 µs (below
 * the clock's resolution; not an anomaly). Negative / non-finite values are recorded as 1 µs and
 * counted in recordStats.anomalies; values above 120 s are recorded as 120 s and counted in
 * recordStats.clampedHigh. Returns true when the value was recorded as given, false when clamped
 * for one of those two reasons.
 */
export function recordUs(h: Histogram, us: number): boolean {
  if (!(us >= 0) || us === Infinity) {
    // NaN, negative, ±Infinity (+Infinity is treated as a clock anomaly too).
    recordStats.anomalies++;
    h.recordValue(HIST_LOWEST_US);
    return false;
  }
  if (us > HIST_HIGHEST_US) {
    recordStats.clampedHigh++;
    h.recordValue(HIST_HIGHEST_US);
    return false;
  }
  const v = Math.round(us);
  h.recordValue(v < HIST_LOWEST_US ? HIST_LOWEST_US : v);
  return true;
}
