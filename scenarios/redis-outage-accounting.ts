/**
 * redis-outage's loss accounting by window: what was lost during the outage (and its settle time)
 * is held against what the adapter promises — Redis pub/sub is at-most-once: a message published
 * while Redis is down is dropped, not queued — while anything lost outside it, with receiver and
 * publisher connected (a Redis outage disconnects no client), is the cluster's failure and is
 * judged by the `no-loss-outside-redis-outage` target.
 */
import type { WindowReport } from '../model/run-report.js';

export interface OutageAccounting {
  /** `lost_outside_outage` (before the outage + after the settle) and `lost_in_outage` (outage + settle); absent when the windows are. */
  counters: Record<string, number>;
  notes: string[];
}

export function outageAccounting(windows: Record<string, WindowReport> | undefined, settleS: number): OutageAccounting {
  const w = windows ?? {};
  if (!w['redis-outage'] || !w.after) return { counters: {}, notes: ['redis-outage: no window after the outage was measured; loss outside it is unknown'] };
  const lostIn = w['redis-outage'].accounting.lost + (w['redis-settle']?.accounting.lost ?? 0);
  const lostBefore = w.before?.accounting.lost ?? 0;
  const lostAfter = w.after.accounting.lost;
  const notes: string[] = [];
  const expectedIn = w['redis-outage'].accounting.expected + (w['redis-settle']?.accounting.expected ?? 0);
  notes.push(
    `Redis outage: ${lostIn} of ${expectedIn} deliveries intended during the outage or within ${settleS} s of its end were lost — Redis pub/sub is at-most-once (what is published while Redis is down is dropped, not queued): what the adapter promises, not a cluster failure`,
  );
  if (lostBefore + lostAfter > 0) {
    notes.push(`CLUSTER FAILURE: ${lostBefore + lostAfter} deliveries were lost outside the Redis outage (${lostBefore} before it, ${lostAfter} after Redis had been back ${settleS} s) while every client stayed connected`);
  }
  return { counters: { lost_outside_outage: lostBefore + lostAfter, lost_in_outage: lostIn }, notes };
}
