import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { SERVER_DEFAULTS } from '../cluster/types.js';
import type { RunReport } from '../model/run-report.js';
import { validateReport } from '../model/schema.js';
import { SEED_TARGETS } from '../model/targets.js';
import { SCENARIOS } from '../scenarios/index.js';
import type { EngineOutcome } from '../engines/types.js';
import type { ScenarioResult } from '../scenarios/define.js';
import { assembleReport, emptyResult } from './assemble-report.js';
import type { RunPlan } from './plan.js';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8')) as RunReport;

/** A real run's measurements, as the scenario returned them. */
const measured = (): ScenarioResult => ({
  metrics: FIXTURE.metrics,
  counters: FIXTURE.counters,
  accounting: FIXTURE.accounting,
  connectionsPerNode: FIXTURE.connectionsPerNode,
  timeline: FIXTURE.timeline,
  generator: { ...FIXTURE.generator, notes: [] },
});

function plan(over: Partial<RunPlan> = {}): RunPlan {
  return {
    scenario: SCENARIOS['cross-node-broadcast'],
    options: FIXTURE.options,
    topology: { nodes: 3, server: 'socketio', lbPolicy: 'ip_hash', lbPort: 0, jwtSecret: 's', readyTimeoutMs: 30_000, serverOptions: { ...SERVER_DEFAULTS }, expectedConnections: 300 } as unknown as RunPlan['topology'],
    serverOverrides: [{ setting: 'rateLimit', value: 730, why: 'the scenario publishes more than 100 a minute' }],
    targets: SCENARIOS['cross-node-broadcast'].targets.map((id) => SEED_TARGETS[id]),
    outDir: undefined,
    json: false,
    engine: 'node',
    k6Path: undefined,
    runId: 'unit-run',
    driver: 'local',
    docker: { images: { redis: 'r', nginx: 'n', node: 'o' }, network: 'auto', pull: 'missing' },
    ...over,
  };
}

const input = (over: Partial<Parameters<typeof assembleReport>[0]> = {}): Parameters<typeof assembleReport>[0] => ({
  plan: plan(),
  startedAt: new Date(),
  t0: Date.now(),
  cluster: undefined,
  result: measured(),
  engine: undefined,
  events: [],
  notes: ['a run note'],
  failure: undefined,
  ...over,
});

describe('assembleReport', () => {
  it('evaluates the targets of a finished run; the report is valid and carries the seed default beside each override', () => {
    const r = assembleReport(input());
    expect(r.targets.map((t) => t.id)).toEqual(['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'no-leak']);
    expect(r.verdict).toBe(r.targets.every((t) => t.status === 'pass') ? 'pass' : 'fail');
    expect(r.topology.overrides).toContainEqual(expect.objectContaining({ setting: 'rateLimit', value: 730, seedDefault: SERVER_DEFAULTS.rateLimit }));
    expect(r.generator.notes).toContain('a run note');
    expect(r.error).toBeUndefined();
    expect(() => validateReport(r)).not.toThrow();
  });

  it('a failed run judges no target and carries its error; an interrupted one is `interrupted`', () => {
    const failed = assembleReport(input({ result: emptyResult(), failure: new WsbenchError('WSB_PORT_IN_USE', 'port taken', { hint: 'choose another --lb-port' }) }));
    expect(failed.targets).toEqual([]);
    expect(failed.verdict).toBe('error');
    expect(failed.error).toEqual({ code: 'WSB_PORT_IN_USE', message: 'port taken', hint: 'choose another --lb-port' });
    const stopped = assembleReport(input({ failure: new WsbenchError('WSB_INTERRUPTED', 'interrupted') }));
    expect(stopped.verdict).toBe('interrupted');
  });

  it("the engine's judgement replaces the targets, adds its notes, and an engine failure is never a pass", () => {
    const base = assembleReport(input());
    const seen: string[][] = [];
    const engine: EngineOutcome = {
      result: measured(),
      judge: (targets) => {
        seen.push(targets.map((t) => t.id));
        return { targets: targets.map((t) => ({ ...t, status: 'pass' as const })), notes: ['k6: thresholds reconciled'], failed: true };
      },
    };
    const r = assembleReport(input({ engine }));
    expect(seen).toEqual([base.targets.map((t) => t.id)]);
    expect(r.targets.every((t) => t.status === 'pass')).toBe(true);
    expect(r.generator.notes).toContain('k6: thresholds reconciled');
    expect(r.verdict).toBe('fail');
    // Not asked after a failure: nothing was measured to judge.
    assembleReport(input({ engine, failure: new WsbenchError('WSB_INTERNAL', 'boom') }));
    expect(seen).toHaveLength(1);
  });
  it("an external target's URL is stored and shown without its credentials: user:password and secret-like query parameters", () => {
    const external = { url: 'wss://ops:pw@127.0.0.1:8443/ws?apikey=k1&room=a', nodeUrls: [] } as unknown as NonNullable<RunPlan['external']>;
    const r = assembleReport(input({ plan: plan({ driver: 'external', external }) }));
    expect(r.topology.url).toBe('wss://ops:<redacted>@127.0.0.1:8443/ws?apikey=<redacted>&room=a');
  });
});
