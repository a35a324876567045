import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { compare, evaluateTargets, exitCodeFor, finalizeReport, readPath, summarizeTargets, verdictOf } from './evaluate.js';
import { applyOverrides, parseTargetOverride, pickTargets, SEED_TARGETS, withValue, type TargetSpec } from './targets.js';
import type { RunReport, TargetResult } from './run-report.js';
import { WsbenchError } from '../common/errors.js';

const sample = (): RunReport => JSON.parse(readFileSync(new URL('../fixtures/sample-report.json', import.meta.url), 'utf8'));

function specOf(metric: string, op: TargetSpec['op'], value: number): TargetSpec {
  return { id: 't', description: 'test', metric, op, value, unit: 'x', source: { seed: 's', quote: 'q' } };
}

function result(status: TargetResult['status'], id: string = status): TargetResult {
  return { id, description: '', metric: 'm', op: '<=', value: 1, unit: '', actual: status === 'unknown' ? null : 1, status, source: { seed: 's', quote: 'q' } };
}

describe('evaluateTargets', () => {
  const report = { counters: { x: 10 } } as unknown as RunReport;
  const cases: Array<[TargetSpec['op'], number, 'pass' | 'fail']> = [
    ['<=', 10, 'pass'],
    ['<=', 9, 'fail'],
    ['<', 11, 'pass'],
    ['<', 10, 'fail'],
    ['>=', 10, 'pass'],
    ['>=', 11, 'fail'],
    ['>', 9, 'pass'],
    ['>', 10, 'fail'],
    ['==', 10, 'pass'],
    ['==', 0, 'fail'],
  ];
  it.each(cases)('10 %s %d → %s', (op, value, status) => {
    const [r] = evaluateTargets(report, [specOf('counters.x', op, value)]);
    expect(r.status).toBe(status);
    expect(r.actual).toBe(10);
  });

  it('compare agrees with the JS operators', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true }), (a, b) => {
        expect(compare(a, '<=', b)).toBe(a <= b);
        expect(compare(a, '<', b)).toBe(a < b);
        expect(compare(a, '>=', b)).toBe(a >= b);
        expect(compare(a, '>', b)).toBe(a > b);
        expect(compare(a, '==', b)).toBe(a === b);
      }),
    );
  });

  it('is unknown with actual null when the metric is missing, NaN or not a number', () => {
    const r = { counters: { nan: NaN, inf: Infinity, s: '5' }, metrics: {} } as unknown as RunReport;
    const out = evaluateTargets(r, [
      specOf('counters.missing', '<=', 1),
      specOf('counters.nan', '<=', 1),
      specOf('counters.inf', '>=', 1),
      specOf('counters.s', '<=', 10),
      specOf('metrics.reconnect_time_ms.p99', '<=', 5000),
      specOf('nothing.at.all', '==', 0),
      specOf('counters.toString', '==', 0),
    ]);
    for (const t of out) {
      expect(t.status).toBe('unknown');
      expect(t.actual).toBeNull();
    }
  });

  it('treats a histogram with no samples and accounting with nothing expected as not measured', () => {
    const r = sample();
    r.metrics.broadcast_latency_ms = { ...r.metrics.broadcast_latency_ms, count: 0, p99: 0 };
    r.accounting = { ...r.accounting, expected: 0, received: 0, lost: 0, deliveryRatio: 1 };
    const out = evaluateTargets(r, pickTargets(['latency-p99', 'no-loss', 'cross-node-latency-p99']));
    expect(out.map((t) => t.status)).toEqual(['unknown', 'unknown', 'pass']);
    expect(verdictOf(out)).toBe('fail');
  });

  it('copies the spec into the result, with its source and override', () => {
    const spec = withValue('latency-p99', 10);
    const [t] = evaluateTargets(sample(), [spec]);
    expect(t).toMatchObject({ id: 'latency-p99', metric: spec.metric, op: '<=', value: 10, unit: 'ms', override: { seedValue: 50 } });
    expect(t.source).toEqual(SEED_TARGETS['latency-p99'].source);
    expect(t.status).toBe('fail');
  });

  it('reproduces the targets and verdict stored in the sample fixture', () => {
    const r = sample();
    const fin = finalizeReport(r, pickTargets(r.targets.map((t) => t.id)));
    expect(fin.targets).toEqual(r.targets);
    expect(fin.verdict).toBe('fail');
  });

  it('readPath follows own properties only', () => {
    expect(readPath({ a: { b: 2 } }, 'a.b')).toBe(2);
    expect(readPath({ a: { b: 2 } }, 'a.c')).toBeNull();
    expect(readPath({ a: {} }, 'a.constructor')).toBeNull();
    expect(readPath(null, 'a')).toBeNull();
  });
});

describe('verdictOf', () => {
  it('passes when every target passes, and with no targets', () => {
    expect(verdictOf([result('pass', 'a'), result('pass', 'b')])).toBe('pass');
    expect(verdictOf([])).toBe('pass');
  });
  it('fails when any target fails', () => {
    expect(verdictOf([result('pass'), result('fail')])).toBe('fail');
  });
  it('fails when any target is unknown: not measured never passes silently', () => {
    expect(verdictOf([result('pass'), result('unknown')])).toBe('fail');
  });
  it('error beats interrupted beats the targets', () => {
    expect(verdictOf([result('pass')], { error: true })).toBe('error');
    expect(verdictOf([result('fail')], { error: true, interrupted: true })).toBe('error');
    expect(verdictOf([result('pass')], { interrupted: true })).toBe('interrupted');
  });
  it('finalizeReport maps report.error to error, WSB_INTERRUPTED to interrupted', () => {
    const r = sample();
    const specs = pickTargets(['latency-p99']);
    expect(finalizeReport(r, specs).verdict).toBe('pass');
    expect(finalizeReport({ ...r, error: { code: 'WSB_NODE_NOT_READY', message: 'm' } }, specs).verdict).toBe('error');
    expect(finalizeReport({ ...r, error: { code: 'WSB_INTERRUPTED', message: 'm' } }, specs).verdict).toBe('interrupted');
    expect(finalizeReport(r, specs, { interrupted: true }).verdict).toBe('interrupted');
  });
  it('summarizeTargets counts unknown as missed', () => {
    expect(summarizeTargets([result('pass', 'a'), result('fail', 'b'), result('unknown', 'c')])).toEqual({
      met: 1,
      total: 3,
      missed: ['b', 'c'],
      unknown: ['c'],
      off: [],
    });
  });
  it('a target switched off is listed as off, never judged: it neither passes nor fails the verdict', () => {
    const off = { ...SEED_TARGETS['no-loss'], off: true as const, source: { ...SEED_TARGETS['no-loss'].source, config: 'wsbench.config.json' } };
    const r = sample();
    r.accounting.lost = 7;
    r.accounting.expected = Math.max(r.accounting.expected, 10);
    const [t] = evaluateTargets(r, [off]);
    expect(t).toMatchObject({ id: 'no-loss', status: 'off', actual: 7, source: { config: 'wsbench.config.json', seed: SEED_TARGETS['no-loss'].source.seed } });
    expect(verdictOf([t])).toBe('pass');
    expect(verdictOf([t, result('fail', 'b')])).toBe('fail');
    expect(summarizeTargets([t, result('pass', 'a')])).toEqual({ met: 1, total: 1, missed: [], unknown: [], off: ['no-loss'] });
  });
});

describe('exitCodeFor', () => {
  it('maps pass 0, fail 1, error 2, interrupted 2', () => {
    expect(exitCodeFor('pass')).toBe(0);
    expect(exitCodeFor('fail')).toBe(1);
    expect(exitCodeFor('error')).toBe(2);
    expect(exitCodeFor('interrupted')).toBe(2);
  });
});

describe('overrides', () => {
  it('withValue changes the threshold and records the seed value, without touching the catalog', () => {
    const t = withValue('latency-p99', 30);
    expect(t.value).toBe(30);
    expect(t.override).toEqual({ seedValue: 50 });
    expect(SEED_TARGETS['latency-p99'].value).toBe(50);
    expect(SEED_TARGETS['latency-p99'].override).toBeUndefined();
  });
  it('overriding twice keeps the original seed value; back to the seed value clears the mark', () => {
    const twice = withValue(withValue('latency-p99', 30), 20);
    expect(twice.override).toEqual({ seedValue: 50 });
    expect(withValue(twice, 50).override).toBeUndefined();
  });
  it('parseTargetOverride reads id=value', () => {
    expect(parseTargetOverride('latency-p99=30')).toMatchObject({ id: 'latency-p99', value: 30, override: { seedValue: 50 } });
    expect(parseTargetOverride(' throughput = 1e4 ').value).toBe(10_000);
  });
  it.each(['latency-p99', 'latency-p99=', 'latency-p99=abc', '=30', 'nope=3'])('rejects %j with WSB_INVALID_OPTION', (flag) => {
    try {
      parseTargetOverride(flag);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WsbenchError);
      expect((e as WsbenchError).code).toBe('WSB_INVALID_OPTION');
      expect((e as WsbenchError).hint).toBeTruthy();
    }
  });
  it('applyOverrides replaces by id and appends the rest', () => {
    const specs = pickTargets(['latency-p99', 'no-loss']);
    const out = applyOverrides(specs, [parseTargetOverride('latency-p99=30'), parseTargetOverride('throughput=1000')]);
    expect(out.map((t) => [t.id, t.value])).toEqual([
      ['latency-p99', 30],
      ['no-loss', 0],
      ['throughput', 1000],
    ]);
  });
});

describe('nested accounting and window paths', () => {
  const acc = (expected: number, lost: number) => ({ expected, received: expected - lost, lost, duplicated: 0, reordered: 0, deliveryRatio: expected ? (expected - lost) / expected : 1 });
  const base = {
    metrics: {},
    accounting: { ...acc(100, 0), sameNode: acc(50, 0), crossNode: acc(50, 0), losses: { lostConnected: 0, lostDisconnected: 3, lostPublisherDown: 0, late: 0 } },
    windows: { 'redis-outage': { sameNode: acc(10, 0), crossNode: acc(0, 0) }, after: { broadcast_latency_ms: { count: 0, p99: 0 } } },
  } as unknown as Parameters<typeof evaluateTargets>[0];
  const spec = (metric: string, op: '==' | '<=', value: number) => ({ id: metric, description: metric, metric, op, value, unit: '', source: { seed: 's', quote: 'q' } });

  it('judges accounting.losses.* by the enclosing accounting, and windows by their own summaries', () => {
    const [lostConnected, sameRatio, crossRatio, afterP99] = evaluateTargets(base, [
      spec('accounting.losses.lostConnected', '==', 0),
      spec('windows.redis-outage.sameNode.deliveryRatio', '==', 1),
      spec('windows.redis-outage.crossNode.deliveryRatio', '==', 1),
      spec('windows.after.broadcast_latency_ms.p99', '<=', 50),
    ]);
    expect(lostConnected.status).toBe('pass');
    expect(sameRatio.status).toBe('pass');
    expect(crossRatio.status).toBe('unknown'); // nothing expected cross-node in that window
    expect(afterP99.status).toBe('unknown'); // no samples
  });
});

describe('latencies clamped at the histogram top (120 s)', () => {
  it('a delivery-latency target fails when any latency was clamped; other targets are unaffected', async () => {
    const { readFileSync } = await import('node:fs');
    const r = JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8'));
    const specs = pickTargets(['latency-p99', 'cross-node-latency-p99', 'no-loss']);
    expect(evaluateTargets(r, specs).map((t) => t.status)).toEqual(['pass', 'pass', 'pass']);
    r.counters.latency_values_clamped = 3;
    expect(evaluateTargets(r, specs).map((t) => t.status)).toEqual(['fail', 'fail', 'pass']);
  });
});
