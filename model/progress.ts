/** One live progress snapshot of a running scenario (rendered by the CLI as the progress line). */
export interface ProgressSnapshot {
  /** The scenario's phase: `connect`, `warmup`, `measure`, `drain`, … */
  phase: string;
  /** Seconds since the scenario started. */
  elapsedS: number;
  /** Connections open now. */
  connected: number;
  /** Connections the scenario opens in all. */
  total: number;
  /** Messages published per second over the last tick. */
  sentPerS: number;
  /** Deliveries received per second over the last tick. */
  receivedPerS: number;
  /** p99 broadcast latency so far, ms; null before the first delivery. */
  p99Ms: number | null;
}
