import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { buildPlan } from './plan.js';

function errorOf(fn: () => unknown): WsbenchError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof WsbenchError) return e;
    throw e;
  }
  return undefined;
}

describe('buildPlan: --repeat, --judge, --fresh-cluster', () => {
  it('--repeat 3 plans three runs on one cluster, judged on the median; --judge and --fresh-cluster change that', () => {
    expect(buildPlan('throughput', { repeat: '3' }).repeat).toEqual({ count: 3, judge: 'median', freshCluster: false });
    expect(buildPlan('throughput', { repeat: '2', judge: 'every', freshCluster: true }).repeat).toEqual({ count: 2, judge: 'every', freshCluster: true });
    expect(buildPlan('throughput', { repeat: '1' }).repeat).toBeUndefined();
  });

  it('bad values are named by their flag, exit 2', () => {
    for (const [flags, text] of [
      [{ repeat: '0' }, '--repeat'],
      [{ repeat: '2.5' }, '--repeat'],
      [{ repeat: 'x' }, '--repeat'],
      [{ judge: 'mean' }, '--judge'],
      [{ repeat: '2', publisherStallMs: '500', publisherStallRun: '3' }, '--publisher-stall-run 3: there are only 2 run(s)'],
    ] as Array<[Record<string, unknown>, string]>) {
      const e = errorOf(() => buildPlan('cross-node-broadcast', flags));
      expect(e?.code).toBe('WSB_INVALID_OPTION');
      expect(e?.exitCode).toBe(2);
      expect(e?.message).toContain(text);
    }
  });

  it('--fresh-cluster does not apply to a cluster wsbench did not start (--url)', () => {
    const e = errorOf(() => buildPlan('cross-node-broadcast', { url: 'http://127.0.0.1:1', repeat: '2', freshCluster: true }, { WSB_JWT_SECRET: 's' }));
    expect(e?.message).toContain('--fresh-cluster: does not apply with --url');
  });
});

describe("cross-node-broadcast's default run", () => {
  it('is 3 runs of 8 s judged on the median when neither --repeat nor --duration is given, and says so', () => {
    const plan = buildPlan('cross-node-broadcast', {});
    expect(plan.repeat).toEqual({ count: 3, judge: 'median', freshCluster: false });
    expect(plan.options.duration).toBe(8);
    expect(plan.notes?.some((n) => n.startsWith("cross-node-broadcast's default run: 3 runs of 8 s"))).toBe(true);
  });
  it('--duration or --repeat given: the user chooses (one run of the given length; or the scenario default length)', () => {
    const long = buildPlan('cross-node-broadcast', { duration: '20' });
    expect([long.repeat, long.options.duration]).toEqual([undefined, 20]);
    const once = buildPlan('cross-node-broadcast', { repeat: '1' });
    expect([once.repeat, once.options.duration]).toEqual([undefined, 20]);
    expect(buildPlan('cross-node-broadcast', { repeat: '5' }).repeat?.count).toBe(5);
    expect(buildPlan('throughput', {}).repeat).toBeUndefined();
  });
});
