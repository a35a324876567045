import { describe, expect, it } from 'vitest';
import { buildPlan } from '../cli/plan.js';
import { WsbenchError } from '../common/errors.js';
import { SEED_TARGETS } from '../model/targets.js';
import { isReportNumberPath } from '../model/report-paths.js';
import { metricPathProblems, nearestReportPaths } from './targets-options.js';

function error(fn: () => unknown): WsbenchError {
  try {
    fn();
  } catch (e) {
    return e as WsbenchError;
  }
  throw new Error('did not throw');
}

const plan = (targets: Record<string, unknown>, flags: Record<string, unknown> = {}) =>
  buildPlan('cross-node-broadcast', { config: 'wsbench.config.json', ...flags }, {}, { scenario: 'cross-node-broadcast', targets });

describe('targets in a config: override, switch off, add', () => {
  it('overrides a threshold (number or the bound of its op), switches one off, adds one on a report path — each sourced to the config file', () => {
    const p = plan({
      'latency-p99': { max: 100 },
      'cross-node-latency-p99': 80,
      'no-loss': false,
      'my-connect-p99': { metric: 'metrics.connect_time_ms.p99', max: 3000, unit: 'ms', description: 'connect p99 under 3 s' },
    });
    const byId = Object.fromEntries(p.targets.map((t) => [t.id, t]));
    expect(p.targets.map((t) => t.id)).toEqual(['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'no-leak', 'my-connect-p99']);
    expect(byId['latency-p99']).toMatchObject({ op: '<=', value: 100, override: { seedValue: 50 }, source: { config: 'wsbench.config.json', seed: SEED_TARGETS['latency-p99'].source.seed } });
    expect(byId['cross-node-latency-p99']).toMatchObject({ value: 80, source: { config: 'wsbench.config.json' } });
    expect(byId['no-loss']).toMatchObject({ off: true, value: 0, source: { config: 'wsbench.config.json' } });
    expect(byId['no-duplicates'].source.config).toBeUndefined();
    expect(byId['my-connect-p99']).toEqual({
      id: 'my-connect-p99',
      description: 'connect p99 under 3 s',
      metric: 'metrics.connect_time_ms.p99',
      op: '<=',
      value: 3000,
      unit: 'ms',
      source: { config: 'wsbench.config.json' },
    });
    // The effective config can be fed back: thresholds, false, and the added target's object.
    expect(p.config.targets).toMatchObject({ 'latency-p99': 100, 'no-loss': false, 'no-duplicates': 0, 'my-connect-p99': { metric: 'metrics.connect_time_ms.p99', max: 3000, unit: 'ms' } });
  });

  it('a seed target the scenario does not judge, given a threshold, is added with its seed sentence; false for one changes nothing', () => {
    const p = buildPlan('node-kill', { config: 'wsbench.config.json' }, {}, { scenario: 'node-kill', targets: { 'reconnect-p99': 4000, 'no-loss': false } });
    expect(p.targets.map((t) => t.id)).toEqual(['reconnect-all', 'no-loss-while-connected', 'no-duplicates', 'no-leak', 'chaos-applied', 'reconnect-p99']);
    expect(p.targets.at(-1)).toMatchObject({ metric: 'metrics.reconnect_time_ms.p99', op: '<=', value: 4000, override: { seedValue: 5000 }, source: { config: 'wsbench.config.json', quote: 'Automatic reconnection within 5 seconds' } });
    expect(p.config.targets).toMatchObject({ 'reconnect-p99': 4000 });
    expect(p.config.targets['no-loss']).toBeUndefined();
  });

  it('an == target given a bound becomes that bound (no-loss { max: 10 } → lost <= 10)', () => {
    const t = plan({ 'no-loss': { max: 10 } }).targets.find((x) => x.id === 'no-loss')!;
    expect(t).toMatchObject({ op: '<=', value: 10, override: { seedValue: 0 } });
  });

  it('--target id=off and id=value on the command line are sourced to the command line and win over the file', () => {
    const p = buildPlan('cross-node-broadcast', { target: ['no-leak=off', 'latency-p99=70'] }, {});
    expect(p.targets.find((t) => t.id === 'no-leak')).toMatchObject({ off: true, source: { config: 'command line' } });
    expect(p.targets.find((t) => t.id === 'latency-p99')).toMatchObject({ value: 70, source: { config: 'command line' } });
    const q = plan({ 'latency-p99': 100 }, { target: ['latency-p99=off'] });
    expect(q.targets.find((t) => t.id === 'latency-p99')).toMatchObject({ off: true, source: { config: 'command line' } });
  });

  it('names every bad target at once: the wrong bound, an unknown path with the nearest ones, an id the scenario lacks without a metric', () => {
    const e = error(() =>
      plan({
        'latency-p99': { min: 10 },
        'my-connect-p99': { metric: 'metrics.connect_ms.p99', max: 3000 },
        'reconnect-pp99': 5000,
        'two-bounds': { metric: 'counters.connections_peak', max: 1, min: 0 },
      }),
    );
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toContain('targets.latency-p99: min: latency-p99 is judged as <= 50 ms (a maximum); give max');
    expect(e.message).toContain("targets.my-connect-p99: metric: 'metrics.connect_ms.p99' is not a number in the report; nearest paths: metrics.connect_time_ms.p99");
    expect(e.message).toContain('targets.reconnect-pp99: cross-node-broadcast has no target "reconnect-pp99" and it is no seed target');
    expect(e.message).toContain('targets.two-bounds: expected exactly one of max or min');
  });

  it('a bad --target value is WSB_INVALID_OPTION naming the flag', () => {
    const e = error(() => buildPlan('cross-node-broadcast', { target: ['latency-p99=soon'] }, {}));
    expect(e.code).toBe('WSB_INVALID_OPTION');
    expect(e.message).toContain('--target latency-p99: expected a number');
  });
});

describe('report paths a target may judge', () => {
  it('accepts numbers the report schema defines, refuses objects, strings, unknown steps and unknown metrics', () => {
    for (const p of ['metrics.connect_time_ms.p99', 'accounting.crossNode.lost', 'accounting.losses.lostConnected', 'counters.connections_peak', 'windows.redis-outage.sameNode.deliveryRatio']) {
      expect(isReportNumberPath(p, ['connect_time_ms']), p).toBe(true);
    }
    for (const p of ['metrics.connect_time_ms', 'metrics.nope_ms.p99', 'accounting.crossNode', 'runId', 'verdict', 'accounting.lostt', 'timeline.0.p99Ms', 'metrics..p99']) {
      expect(isReportNumberPath(p, ['connect_time_ms']), p).toBe(false);
    }
    expect(metricPathProblems('accounting.lost')).toEqual([]);
    expect(nearestReportPaths('acounting.lost', 1)).toEqual(['accounting.lost']);
  });
});
