import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { resolvePlan } from './resolve.js';
import { compareConfigProblems } from './compare-options.js';

describe('the compare section of a config file', () => {
  it('accepts tolerances and names every bad key with its value and what was expected', () => {
    expect(compareConfigProblems({ maxRegression: 20, latencyFloor: 0, ratioTolerance: 1, metrics: { p99: 25 }, allowMissing: true, allowDifferentOptions: false })).toEqual([]);
    expect(compareConfigProblems({ maxRegression: -1, ratioTolerance: 150, metrics: { p99: '25%' }, allowMissing: 'yes', tol: 3 })).toEqual([
      'compare.maxRegression: expected a number ≥ 0 (got -1)',
      'compare.ratioTolerance: expected percentage points from 0 to 100 (got 150)',
      'compare.metrics.p99: expected a number (got "25%")',
      'compare.allowMissing: expected true or false (got "yes")',
      'compare: unknown key(s) tol — keys: maxRegression, latencyFloor, ratioTolerance, metrics, allowMissing, allowDifferentOptions',
    ]);
    expect(compareConfigProblems([1])).toEqual(['compare: expected an object of tolerances (got [1])']);
  });

  it('a run config may hold the section (not a run key); a bad one fails the run before anything starts', () => {
    const plan = resolvePlan('cross-node-broadcast', [{ origin: 'config', source: 'wsbench.config.json', values: { compare: { maxRegression: 20 } } }]);
    expect(plan.config).not.toHaveProperty('compare');
    expect(plan.scenario.name).toBe('cross-node-broadcast');
    let err: unknown;
    try {
      resolvePlan('cross-node-broadcast', [{ origin: 'config', source: 'wsbench.config.json', values: { compare: { maxRegression: '20%' } } }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WsbenchError);
    expect((err as WsbenchError).code).toBe('WSB_CONFIG_INVALID');
    expect((err as WsbenchError).message).toContain('compare.maxRegression: expected a number (got "20%")');
  });
});
