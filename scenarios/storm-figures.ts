import type { Disconnection } from '../load/ipc.js';
import type { ReconnectionReport } from '../model/run-report.js';

type FaultFigures = ReconnectionReport['faults'][number];
type StormSummary = NonNullable<ReconnectionReport['storms']>[number];

const round = (v: number) => Math.round(v * 10) / 10;

/**
 * The reconnection figures counted from the moment the load balancer accepted again
 * (`returnUs`, observed with TCP connects, cluster/lb-accept.ts) instead of from the drop: how
 * long the LB was away, and how long after its return 99 % / 100 % of the clients were back.
 * Counted from the return, the figure describes the clients and the cluster; counted from the drop,
 * it also holds the luck of where the clients' backoff steps fell while the LB was down.
 */
export function fromReturnFigures(
  fault: { startUs: number; returnUs: number | null },
  affected: Disconnection[],
): Pick<FaultFigures, 'lbAcceptedAfterMs' | 'backWithin99PercentFromReturnMs' | 'backWithin100PercentFromReturnMs'> {
  if (fault.returnUs === null) return { lbAcceptedAfterMs: null, backWithin99PercentFromReturnMs: null, backWithin100PercentFromReturnMs: null };
  const n = affected.length;
  // A client cannot be back before the LB accepts; one that was (a probe racing a connect) counts as 0.
  const back = affected
    .filter((d) => d.upUs !== null)
    .map((d) => Math.max(0, d.upUs! - fault.returnUs!) / 1000)
    .sort((a, b) => a - b);
  const need99 = Math.ceil(n * 0.99);
  return {
    lbAcceptedAfterMs: round((fault.returnUs - fault.startUs) / 1000),
    backWithin99PercentFromReturnMs: n > 0 && back.length >= need99 ? round(back[need99 - 1]) : null,
    backWithin100PercentFromReturnMs: n > 0 && back.length === n ? round(back[n - 1]) : null,
  };
}

/**
 * The judged storm of several: the median, and of an even count the upper of the two middle
 * storms (a storm that happened, never an average of two). A storm whose clients never all came
 * back (null) ranks above every figure; a null median is null (unknown, which fails the target).
 */
export function medianStorm(values: Array<number | null>): number | null {
  if (values.length === 0) return null;
  const ranked = [...values].sort((a, b) => (a === null ? Infinity : a) - (b === null ? Infinity : b));
  return ranked[Math.floor(ranked.length / 2)];
}

/** Per policy: how many storms ran, and the median, min and max of both figures (median judged). */
export function summarizeStorms(faults: FaultFigures[]): StormSummary[] {
  const policies = [...new Set(faults.map((f) => f.policy))];
  const spread = (vals: Array<number | null>) => {
    const known = vals.filter((v): v is number => v !== null);
    return { median: medianStorm(vals), min: known.length ? Math.min(...known) : null, max: known.length === vals.length && known.length ? Math.max(...known) : null };
  };
  return policies.map((policy) => {
    const fs = faults.filter((f) => f.policy === policy);
    return {
      policy,
      storms: fs.length,
      fromDrop100PercentMs: spread(fs.map((f) => f.backWithin100PercentMs)),
      fromReturn100PercentMs: spread(fs.map((f) => f.backWithin100PercentFromReturnMs ?? null)),
    };
  });
}

/**
 * The counters the reconnect targets read: the worst policy's median storm, from the drop
 * (`reconnect_all_back_ms`, target `reconnect-all`) and from the LB's return
 * (`reconnect_all_back_from_return_ms`). Absent (unknown) when a policy's median storm never had
 * every client back.
 */
export function judgedCounters(summary: StormSummary[]): Record<string, number> {
  const out: Record<string, number> = {};
  const worst = (pick: (s: StormSummary) => number | null) => {
    const v = summary.map(pick);
    return v.length && v.every((x) => x !== null) ? Math.max(...(v as number[])) : null;
  };
  const drop = worst((s) => s.fromDrop100PercentMs.median);
  const ret = worst((s) => s.fromReturn100PercentMs.median);
  if (drop !== null) out.reconnect_all_back_ms = drop;
  if (ret !== null) out.reconnect_all_back_from_return_ms = ret;
  return out;
}
