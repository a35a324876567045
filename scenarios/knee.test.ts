import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { breaks, combineRepeats, findKnee, measureStep, type CapacityStep } from './knee.js';

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

  describe('a broken step is retried before it counts', () => {
    /** A measure function that answers the given p99s in turn, and counts its calls. */
    const answers = (offered: number, p99s: number[]) => {
      let calls = 0;
      const fn = async (run: number) => {
        expect(run).toBe(calls);
        return step(offered, p99s[calls++]);
      };
      return { fn, calls: () => calls };
    };

    it('a stall in the first try is overruled by a retry that holds, and the stalled try is kept', async () => {
      const m = answers(1000, [900, 8]);
      const s = await measureStep(m.fn, { retries: 1, repeats: 1 });
      expect(m.calls()).toBe(2);
      expect(s.broke).toEqual([]);
      expect(s.p99Ms).toBe(8);
      expect(s.attempts).toBe(2);
      expect(s.discarded).toEqual([expect.objectContaining({ p99Ms: 900, broke: ['p99 900 ms > 50 ms'] })]);
    });

    it('a step that breaks on every try counts as broken, after exactly 1 + retries tries', async () => {
      const m = answers(1000, [900, 700, 600]);
      const s = await measureStep(m.fn, { retries: 2, repeats: 1 });
      expect(m.calls()).toBe(3);
      expect(s.broke).toEqual(['p99 600 ms > 50 ms']);
      expect(s.discarded?.map((d) => d.p99Ms)).toEqual([900, 700]);
    });

    it('a step that holds at once runs once; with no retries a broken step counts at once', async () => {
      const held = answers(1000, [9]);
      const a = await measureStep(held.fn, { retries: 1, repeats: 1 });
      expect(held.calls()).toBe(1);
      expect(a.attempts).toBeUndefined();
      expect(a.discarded).toBeUndefined();
      const broken = answers(1000, [90]);
      const b = await measureStep(broken.fn, { retries: 0, repeats: 1 });
      expect(broken.calls()).toBe(1);
      expect(b.broke).toHaveLength(1);
    });

    it('repeats: the median-p99 run speaks for the attempt, and one broken run of three does not break it', async () => {
      const m = answers(1000, [70, 9, 12]);
      const s = await measureStep(m.fn, { retries: 1, repeats: 3 });
      expect(m.calls()).toBe(3);
      expect(s.p99Ms).toBe(12);
      expect(s.broke).toEqual([]);
      expect(s.attempts).toBe(3);
      expect(s.discarded?.map((d) => d.p99Ms).sort((a, b) => a - b)).toEqual([9, 70]);
    });

    it('repeats: two broken runs of three break the attempt, which is then retried as a whole', async () => {
      const m = answers(1000, [70, 80, 9, 10, 11, 12]);
      const s = await measureStep(m.fn, { retries: 1, repeats: 3 });
      expect(m.calls()).toBe(6);
      expect(s.broke).toEqual([]);
      expect(s.p99Ms).toBe(11);
      expect(s.attempts).toBe(6);
      expect(s.discarded).toHaveLength(5);
    });

    it('combineRepeats breaks on a majority of broken runs with the median run\'s reasons', () => {
      const c = combineRepeats([step(1, 60), step(1, 70), step(1, 5)]);
      expect(c.p99Ms).toBe(60);
      expect(c.broke).toEqual(['p99 60 ms > 50 ms']);
      expect(combineRepeats([step(1, 60), step(1, 5)]).broke).toEqual([]);
    });

    it('a search with one stalled try at its first step finds the same knee as one without', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 12 }), async (limitStep) => {
          const kneeOf = async (stallFirst: boolean) => {
            const steps: CapacityStep[] = [];
            for (let i = 1; i <= 15; i++) {
              const s = await measureStep(async (run) => step(i * 1000, stallFirst && i === 1 && run === 0 ? 1000 : i <= limitStep ? 10 : 500));
              steps.push(s);
              if (s.broke.length) break;
            }
            return findKnee(steps);
          };
          const [plain, stalled] = [await kneeOf(false), await kneeOf(true)];
          expect(stalled.lastGood?.offeredPerSec).toBe(limitStep * 1000);
          expect(stalled.firstBad?.offeredPerSec).toBe(plain.firstBad?.offeredPerSec);
        }),
      );
    });
  });
});
