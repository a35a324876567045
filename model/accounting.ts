/** Delivery accounting arithmetic (the report's `accounting` blocks): sums of per-worker, per-shard counts. */
import type { Accounting } from './run-report.js';

export function emptyAccounting(): Accounting {
  return { expected: 0, received: 0, lost: 0, duplicated: 0, reordered: 0, deliveryRatio: 1 };
}

/** received / expected; 1 when nothing was expected. */
export function deliveryRatio(received: number, expected: number): number {
  return expected === 0 ? 1 : received / expected;
}

/** Field-wise sum; deliveryRatio recomputed from the summed received / expected. */
export function addAccounting(a: Accounting, b: Accounting): Accounting {
  const expected = a.expected + b.expected;
  const received = a.received + b.received;
  return {
    expected,
    received,
    lost: a.lost + b.lost,
    duplicated: a.duplicated + b.duplicated,
    reordered: a.reordered + b.reordered,
    deliveryRatio: deliveryRatio(received, expected),
  };
}
