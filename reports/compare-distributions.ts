/**
 * `wsbench compare` of repeated runs (`--repeat N`): where both reports hold the distribution of a
 * value, the comparison judges the current MEDIAN against the EDGE of the baseline's spread — its
 * max when lower is better, its min when higher is better — so a regression is a current median
 * outside the baseline's spread plus the tolerance. The run-to-run scatter the baseline itself
 * showed is never called a regression; a single slow run on either side moves neither figure far.
 * Pure functions of the two reports.
 */
import type { RunReport } from '../model/run-report.js';

/** What the comparison needs of a compared value (reports/compare.ts's candidates). */
export interface DistributionCandidate {
  metric: string;
  better: 'lower' | 'higher';
  baseline: number | null;
  current: number | null;
}

/**
 * Replaces each candidate's two sides by the baseline's spread edge and the current median where
 * both reports have the value's distribution; the rest are left as they are (single runs: the
 * judged run's figures).
 */
export function onDistributions<C extends DistributionCandidate>(cands: C[], baseline: RunReport, current: RunReport): C[] {
  const bd = baseline.repeat?.distribution;
  const cd = current.repeat?.distribution;
  if (!bd || !cd) return cands;
  return cands.map((c) => {
    const db = bd[c.metric];
    const dc = cd[c.metric];
    if (!db || !dc) return c;
    return { ...c, baseline: c.better === 'lower' ? db.max : db.min, current: dc.median };
  });
}

/** The line the comparison prints about repeated runs (none when neither report has them). */
export function distributionNotes(baseline: RunReport, current: RunReport): string[] {
  const b = baseline.repeat;
  const c = current.repeat;
  if (!b || !c) {
    if (b || c) return [`only the ${b ? 'baseline' : 'current report'} holds repeated runs (${(b ?? c)!.runs.length}): compared on its top-level (judged run's) figures`];
    return [];
  }
  return [`repeated runs (baseline ${b.runs.length}, current ${c.runs.length}): each value judged as the current median against the baseline's spread (its max where lower is better, its min where higher is better) plus the tolerance`];
}
