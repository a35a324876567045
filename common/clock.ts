/**
 * The one clock every wsbench process uses for latency: CLOCK_MONOTONIC through
 * process.hrtime.bigint(), which on Linux is system-wide, so a timestamp taken in a publisher
 * worker and one taken in a receiver worker are directly comparable.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function nowMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
