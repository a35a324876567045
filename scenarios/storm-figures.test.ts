import { describe, expect, it } from 'vitest';
import type { Disconnection } from '../load/ipc.js';
import { fromReturnFigures, judgedCounters, medianStorm, summarizeStorms } from './storm-figures.js';

const d = (downUs: number, upUs: number | null): Disconnection => ({ downUs, upUs }) as unknown as Disconnection;
const fig = (policy: string, drop: number | null, ret: number | null) =>
  ({ fault: `storm-${policy}`, policy, affected: 10, backWithin99PercentMs: drop, backWithin100PercentMs: drop, acceptPer100msPeak: 1, acceptPer100msMean: 1, failedAttempts: 0, landedOn: {}, backWithin100PercentFromReturnMs: ret }) as const;

describe('reconnection figures from the load balancer\'s return', () => {
  it('counts from the instant the LB accepted, and says how long it was away', () => {
    // Dropped at 1.000 s, LB back at 1.500 s, clients back at 1.6 / 1.7 / 2.5 s.
    const f = fromReturnFigures({ startUs: 1_000_000, returnUs: 1_500_000 }, [d(1_000_100, 1_600_000), d(1_000_200, 1_700_000), d(1_000_300, 2_500_000)]);
    expect(f).toEqual({ lbAcceptedAfterMs: 500, backWithin99PercentFromReturnMs: 1000, backWithin100PercentFromReturnMs: 1000 });
  });

  it('is null where a client never came back, or the LB was never seen accepting', () => {
    expect(fromReturnFigures({ startUs: 0, returnUs: 100_000 }, [d(1, 200_000), d(2, null)]).backWithin100PercentFromReturnMs).toBeNull();
    expect(fromReturnFigures({ startUs: 0, returnUs: null }, [d(1, 200_000)])).toEqual({ lbAcceptedAfterMs: null, backWithin99PercentFromReturnMs: null, backWithin100PercentFromReturnMs: null });
  });

  it('99 % of 200 clients is the 198th back', () => {
    const list = Array.from({ length: 200 }, (_, i) => d(0, 1_000_000 + i * 1000));
    const f = fromReturnFigures({ startUs: 0, returnUs: 1_000_000 }, list);
    expect(f.backWithin99PercentFromReturnMs).toBe(197);
    expect(f.backWithin100PercentFromReturnMs).toBe(199);
  });
});

describe('the judged storm', () => {
  it('is the median, of an even count the upper middle one, and a never-back storm ranks last', () => {
    expect(medianStorm([3000, 1000, 2000])).toBe(2000);
    expect(medianStorm([1000, 4000])).toBe(4000);
    expect(medianStorm([1000, 2000, 3000, 9000])).toBe(3000);
    expect(medianStorm([null, 1000, 2000])).toBe(2000);
    expect(medianStorm([null, null, 2000])).toBeNull();
    expect(medianStorm([])).toBeNull();
  });

  it('one slow storm of three does not decide the counter; the worse policy\'s median does', () => {
    const s = summarizeStorms([fig('socketio', 1900, 900), fig('full-jitter', 1500, 600), fig('socketio', 4700, 3000), fig('full-jitter', 1600, 700), fig('socketio', 2000, 1000), fig('full-jitter', 1700, 650)]);
    expect(s).toEqual([
      { policy: 'socketio', storms: 3, fromDrop100PercentMs: { median: 2000, min: 1900, max: 4700 }, fromReturn100PercentMs: { median: 1000, min: 900, max: 3000 } },
      { policy: 'full-jitter', storms: 3, fromDrop100PercentMs: { median: 1600, min: 1500, max: 1700 }, fromReturn100PercentMs: { median: 650, min: 600, max: 700 } },
    ]);
    expect(judgedCounters(s)).toEqual({ reconnect_all_back_ms: 2000, reconnect_all_back_from_return_ms: 1000 });
  });

  it('leaves a counter out (unknown, so the target fails) when a policy\'s median storm never had everyone back', () => {
    const s = summarizeStorms([fig('socketio', null, null), fig('socketio', null, null), fig('socketio', 1000, 500)]);
    expect(s[0].fromDrop100PercentMs).toEqual({ median: null, min: 1000, max: null });
    expect(judgedCounters(s)).toEqual({});
  });
});
