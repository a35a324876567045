/**
 * What every wsbench k6 script shares: the environment, the tokens, the k6 options, setup()'s
 * shared start time and handleSummary.
 */
import { SharedArray } from 'k6/data';
import { Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import type { Options } from 'k6/options';
import { readEnv, type K6Plan, type ScriptEnv } from './plan';

/** Reads the WSB_* environment (init context: every VU runs this once). */
export function scriptEnv(scenario: K6Plan['scenario']): ScriptEnv {
  return readEnv(__ENV, scenario);
}

/** The tokens file, parsed once and shared by every VU (k6's SharedArray), one token per connection index. */
export function loadTokens(env: ScriptEnv): string[] {
  return new SharedArray('wsbench-tokens', () => {
    const v: unknown = JSON.parse(open(env.tokensFile));
    if (!Array.isArray(v) || v.length < env.plan.connections) throw new Error(`${env.tokensFile}: expected ${env.plan.connections} tokens`);
    return v as string[];
  });
}

/** One scenario, one iteration per VU (each VU holds its share of the connections for the whole run). */
export function k6Options(env: ScriptEnv): Options {
  return {
    scenarios: {
      wsbench: {
        executor: 'per-vu-iterations',
        vus: env.plan.vus,
        iterations: 1,
        maxDuration: env.plan.maxDuration,
        gracefulStop: '10s',
      },
    },
    thresholds: env.thresholds,
    setupTimeout: '60s',
  };
}

export interface SetupData {
  /** Epoch ms every VU counts its schedule from. */
  t0: number;
}

/**
 * setup(): the shared start time, printed for the harness (which schedules its own actions, e.g.
 * the fault of reconnection-storm, from the same instant). VUs start after setup returns.
 */
export function sharedStart(): SetupData {
  const t0 = Date.now();
  console.log(`WSB_T0=${t0}`);
  return { t0 };
}

/**
 * handleSummary: k6's summary JSON to WSB_SUMMARY_JSON for wsbench to read, one line on stdout
 * instead of k6's text summary (wsbench prints its own table). Without WSB_SUMMARY_JSON, k6's
 * default summary.
 */
export function writeSummary(env: ScriptEnv, data: unknown): Record<string, string> | undefined {
  if (!env.summaryJson) return undefined;
  return { [env.summaryJson]: JSON.stringify(data), stdout: `wsbench: k6 summary written to ${env.summaryJson}\n` };
}

/** Logs at most `limit` lines per key per VU (thousands of identical failures would flood k6's log). */
export function limitedLog(limit = 3): (key: string, line: string) => void {
  const seen = new Map<string, number>();
  return (key, line) => {
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n <= limit) console.error(line);
    else if (n === limit + 1) console.error(`${key}: further messages of this kind from VU ${__VU} suppressed`);
  };
}

const timerLag = new Trend('timer_lag_ms', true);
/** How often a VU's timer-lag probe fires, ms. */
const LAG_PROBE_MS = 100;

/**
 * The VU's own event-loop delay: a 100 ms timer, and how late it fires (`timer_lag_ms`), from now
 * until `t0 + untilMs` (k6 runs a VU's callbacks on one loop; wsbench reads it as generator health).
 */
export function startLagProbe(t0: number, untilMs: number): void {
  const probe = (due: number) => {
    const now = Date.now();
    timerLag.add(Math.max(0, now - due));
    if (now - t0 < untilMs) setTimeout(() => probe(now + LAG_PROBE_MS), LAG_PROBE_MS);
  };
  setTimeout(() => probe(Date.now() + LAG_PROBE_MS), LAG_PROBE_MS);
}
