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

/** The parts of hdr-histogram-js's JsHistogram that `recordSingleValue` is made of. */
interface RecordInternals {
  countsArrayIndex(value: number): number;
  countsArrayLength: number;
  incrementCountAtIndex(index: number): void;
  handleRecordException(count: number, value: number): void;
  updateMinAndMax(value: number): void;
  incrementTotalCount(): void;
}

function countAt(h: Histogram, index: number, v: number): void {
  const x = h as unknown as RecordInternals;
  if (index >= x.countsArrayLength) x.handleRecordException(1, v);
  else x.incrementCountAtIndex(index);
  x.updateMinAndMax(v);
  x.incrementTotalCount();
}

/**
 * recordUs(h, us) for each of `a`, `b`, `c` and `d` (null: skipped), which must all have
 * model/histogram.ts's latency configuration (dense or packed: same range and precision, so a
 * value has the same counts index in each): the receive path's four records per delivery, the
 * index computed once instead of four times (`npm run bench`'s profile: a tenth of the lean
 * client's receive time was that computation). Same counts, min, max, total and recordStats as
 * the separate calls; returns what recordUs returns.
 */
export function recordUsInto(a: Histogram, b: Histogram, c: Histogram, d: Histogram | null, us: number): boolean {
  const n = d === null ? 3 : 4;
  let v: number;
  let asGiven = true;
  if (!(us >= 0) || us === Infinity) {
    recordStats.anomalies += n;
    v = HIST_LOWEST_US;
    asGiven = false;
  } else if (us > HIST_HIGHEST_US) {
    recordStats.clampedHigh += n;
    v = HIST_HIGHEST_US;
    asGiven = false;
  } else {
    const r = Math.round(us);
    v = r < HIST_LOWEST_US ? HIST_LOWEST_US : r;
  }
  const index = (a as unknown as RecordInternals).countsArrayIndex(v);
  countAt(a, index, v);
  countAt(b, index, v);
  countAt(c, index, v);
  if (d !== null) countAt(d, index, v);
  return asGiven;
}
