/**
 * The distribution of one value over repeated runs (`--repeat N`): every run's value, the median,
 * min, max and spread (max − min). Pure functions; a run that did not measure the value (null)
 * makes the median unknown, as an unmeasured value never counts as met.
 */
import type { Distribution } from './run-report.js';

/** The median of `values` (the mean of the two middle values when there is an even number). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The distribution of one value over the runs (null where a run did not measure it). */
export function distributionOf(values: ReadonlyArray<number | null>): Distribution {
  const measured = values.filter((v): v is number => v !== null);
  if (measured.length === 0) return { values: [...values], median: null, min: null, max: null, spread: null };
  const min = Math.min(...measured);
  const max = Math.max(...measured);
  return {
    values: [...values],
    // One run without the value: the median is not known (a missing run could have been the middle one).
    median: measured.length === values.length ? median(measured) : null,
    min,
    max,
    spread: max - min,
  };
}

/** Which way is worse for a target's comparison: `<=` / `<` → higher is worse. */
export function worseIsHigher(op: '<=' | '<' | '>=' | '>' | '=='): boolean {
  return op === '<=' || op === '<' || op === '==';
}

/** The worst of the values for a target with `op` (null when any run did not measure it). */
export function worstOf(values: ReadonlyArray<number | null>, op: '<=' | '<' | '>=' | '>' | '==', target: number): number | null {
  if (values.some((v) => v === null) || values.length === 0) return null;
  const v = values as number[];
  if (op === '==') return v.find((x) => x !== target) ?? target;
  return worseIsHigher(op) ? Math.max(...v) : Math.min(...v);
}
