import type { ChaosRecord } from './chaos.js';

/** What the tally says about a run's chaos: its counters and its console lines. */
export interface ChaosTallyResult {
  /**
   * `chaos_actions_failed`: actions whose effect was seen not to happen; `chaos_actions_unobserved`:
   * actions nothing could observe (outcome `unknown`). The `chaos-applied` target judges the first
   * and is unknown (and fails) while the second is above 0 (model/evaluate.ts).
   */
  counters: { chaos_actions_failed: number; chaos_actions_unobserved: number };
  /** `CHAOS NOT APPLIED: …` per failed action, `CHAOS NOT OBSERVED: … — hint` per unobserved one. */
  notes: string[];
}

/**
 * Counts a run's chaos outcomes for both engines. An action that ended `unknown` is not a pass: a
 * fault nobody saw happen cannot let a resilience scenario pass (docs/chaos.md).
 */
export class ChaosTally {
  private readonly failed: string[] = [];
  private readonly unobserved: string[] = [];

  /** Adds one action's record (cluster/chaos.ts `applyChaos`, or an engine's own step such as k6's chaos as a whole). */
  add(rec: Pick<ChaosRecord, 'target' | 'outcome' | 'detail' | 'hint'> & { action: string }): void {
    const line = `${rec.action} ${rec.target}: ${rec.detail ?? rec.outcome}`;
    if (rec.outcome === 'fail') this.failed.push(line);
    else if (rec.outcome === 'unknown') this.unobserved.push(`${line}${rec.hint ? ` — ${rec.hint}` : ''}`);
  }

  /** The counters and notes of every action added so far. */
  result(): ChaosTallyResult {
    return {
      counters: { chaos_actions_failed: this.failed.length, chaos_actions_unobserved: this.unobserved.length },
      notes: [...this.failed.map((f) => `CHAOS NOT APPLIED: ${f}`), ...this.unobserved.map((u) => `CHAOS NOT OBSERVED: ${u}`)],
    };
  }
}
