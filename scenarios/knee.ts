/** One step of a capacity search: the offered load and what the run measured at it. */
export interface CapacityStep {
  /** Deliveries per second offered (publish rate × members). */
  offeredPerSec: number;
  /** Deliveries per second received over the measured window. */
  achievedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  duplicated: number;
  reordered: number;
  generatorBound: boolean;
  /** Why this step failed the limits; empty when it held. */
  broke: string[];
}

export interface Limits {
  /** A step breaks when its p99 exceeds this (ms). */
  p99Ms: number;
  /** A step breaks when it loses more than this many deliveries (default 0). */
  maxLost?: number;
}

/** Reasons a step breaks the limits (empty: it held). A generator-bound step is not trusted either. */
export function breaks(s: Omit<CapacityStep, 'broke'>, limits: Limits): string[] {
  const out: string[] = [];
  if (s.p99Ms > limits.p99Ms) out.push(`p99 ${s.p99Ms} ms > ${limits.p99Ms} ms`);
  if (s.lost > (limits.maxLost ?? 0)) out.push(`${s.lost} lost`);
  if (s.generatorBound) out.push('generator-bound');
  return out;
}

/**
 * The knee of a capacity search: the last step that held before the first that broke. Steps are
 * in the order they ran (rising load); a search stops at its first broken step.
 */
export function findKnee(steps: CapacityStep[]): { lastGood: CapacityStep | null; firstBad: CapacityStep | null } {
  const i = steps.findIndex((s) => s.broke.length > 0);
  if (i === -1) return { lastGood: steps.at(-1) ?? null, firstBad: null };
  return { lastGood: i > 0 ? steps[i - 1] : null, firstBad: steps[i] };
}
