import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { breaks, findKnee, type CapacityStep } from './knee.js';

const step = (offered: number, p99: number, lost = 0, generatorBound = false): CapacityStep => {
  const s = { offeredPerSec: offered, achievedPerSec: offered, p50Ms: p99 / 4, p99Ms: p99, lost, duplicated: 0, reordered: 0, generatorBound };
  return { ...s, broke: breaks(s, { p99Ms: 50 }) };
};

describe('capacity knee', () => {
  it('is the last step that held before the first that broke', () => {
    const steps = [step(10_000, 5), step(20_000, 9), step(30_000, 70), step(40_000, 200)];
    const k = findKnee(steps);
    expect(k.lastGood?.offeredPerSec).toBe(20_000);
    expect(k.firstBad?.offeredPerSec).toBe(30_000);
    expect(k.firstBad?.broke).toEqual(['p99 70 ms > 50 ms']);
  });

  it('breaks on any loss and on a generator-bound step, not only on latency', () => {
    expect(step(10_000, 5, 1).broke).toEqual(['1 lost']);
    expect(step(10_000, 5, 0, true).broke).toEqual(['generator-bound']);
  });

  it('has no first bad step when every step held, and no last good one when the first broke', () => {
    expect(findKnee([step(1, 1), step(2, 2)])).toMatchObject({ lastGood: { offeredPerSec: 2 }, firstBad: null });
    expect(findKnee([step(1, 99)])).toMatchObject({ lastGood: null, firstBad: { offeredPerSec: 1 } });
    expect(findKnee([])).toEqual({ lastGood: null, firstBad: null });
  });

  it('for a synthetic limit L, the knee brackets L exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), (limitStep, n) => {
        // A cluster that holds p99 = 10 ms up to step `limitStep` and collapses beyond it.
        const steps = Array.from({ length: n }, (_, i) => step((i + 1) * 1000, i + 1 <= limitStep ? 10 : 500));
        const k = findKnee(steps);
        if (limitStep >= n) expect(k.firstBad).toBeNull();
        else {
          expect(k.lastGood?.offeredPerSec).toBe(limitStep * 1000);
          expect(k.firstBad?.offeredPerSec).toBe((limitStep + 1) * 1000);
        }
      }),
    );
  });
});
