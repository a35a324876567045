/**
 * Per fault: which disconnections it caused, and how fast those clients came back (99 % / 100 %
 * back, reconnects per 100 ms, where they landed). Used by every broadcast scenario with faults.
 */
import type { Disconnection } from '../load/ipc.js';
import type { ReconnectionReport } from '../model/run-report.js';
import type { ReconnectPolicy } from '../load/reconnect-policy.js';

/** What the figures need of a fault (scenarios/broadcast-workload.ts `Fault`). */
interface FaultSpan {
  name: string;
  startUs: number;
  actionEndUs: number;
  policy: ReconnectPolicy;
}

/** Disconnections a fault caused: closed between its start and 2 s after its action ended. */
export function affectedBy(f: { startUs: number; actionEndUs: number }, list: Disconnection[]): Disconnection[] {
  return list.filter((d) => d.downUs >= f.startUs && d.downUs <= f.actionEndUs + 2e6);
}

export function reconnectionFigures(fault: FaultSpan, list: Disconnection[], sessions = false): ReconnectionReport['faults'][number] {
  const affected = affectedBy(fault, list);
  const back = affected.filter((d) => d.upUs !== null).map((d) => (d.upUs! - fault.startUs) / 1000).sort((a, b) => a - b);
  const n = affected.length;
  const need99 = Math.ceil(n * 0.99);
  const landedOn: Record<string, number> = {};
  for (const d of affected) if (d.nodeAfter) landedOn[d.nodeAfter] = (landedOn[d.nodeAfter] ?? 0) + 1;
  const bins = new Map<number, number>();
  for (const ms of back) bins.set(Math.floor(ms / 100), (bins.get(Math.floor(ms / 100)) ?? 0) + 1);
  const firstBin = back.length ? Math.floor(back[0] / 100) : 0;
  const lastBin = back.length ? Math.floor(back[back.length - 1] / 100) : 0;
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    fault: fault.name,
    policy: fault.policy,
    affected: n,
    backWithin99PercentMs: n > 0 && back.length >= need99 ? round(back[need99 - 1]) : null,
    backWithin100PercentMs: n > 0 && back.length === n ? round(back[n - 1]) : null,
    acceptPer100msPeak: bins.size ? Math.max(...bins.values()) : 0,
    acceptPer100msMean: back.length ? round(back.length / (lastBin - firstBin + 1)) : 0,
    failedAttempts: affected.reduce((a, d) => a + d.failedAttempts, 0),
    landedOn,
    ...(sessions ? { recovered: affected.filter((d) => d.recovered).length } : {}),
  };
}

