/**
 * The one clock every wsbench process uses for latency: CLOCK_MONOTONIC, which on Linux is
 * system-wide, so a timestamp taken in a publisher worker and one taken in a receiver worker are
 * directly comparable.
 *
 * It is read through `performance.now()`: Node computes it from the same clock as
 * `process.hrtime.bigint()` (libuv's `uv_hrtime`, CLOCK_MONOTONIC) minus a fixed origin taken at
 * process start, as a double in ms. Adding that origin back gives CLOCK_MONOTONIC µs without the
 * two BigInts `process.hrtime.bigint() / 1000n` allocates, at about two thirds of its cost — it is
 * read once per delivery on the receive path (issue 17, docs/benchmarks.md).
 */
import { performance } from 'node:perf_hooks';

/**
 * CLOCK_MONOTONIC µs minus performance.now() µs, measured once: the pair of performance.now()
 * reads closest around a hrtime read (its midpoint is off by at most half their gap, well under a
 * µs unless every try was preempted).
 */
function measureOrigin(): { originUs: number; bracketUs: number } {
  let best = { originUs: 0, bracketUs: Infinity };
  for (let i = 0; i < 50 && best.bracketUs > 0.2; i++) {
    const a = performance.now();
    const mono = Number(process.hrtime.bigint()) / 1000;
    const b = performance.now();
    const bracketUs = (b - a) * 1000;
    if (bracketUs < best.bracketUs) best = { originUs: mono - (a + b) * 500, bracketUs };
  }
  return best;
}

const ORIGIN = measureOrigin();
const ORIGIN_US = ORIGIN.originUs;

/** CLOCK_MONOTONIC in whole µs. */
export function nowUs(): number {
  return Math.floor(performance.now() * 1000 + ORIGIN_US);
}

/** CLOCK_MONOTONIC in ms (fractional, µs resolution). */
export function nowMs(): number {
  return Math.floor(performance.now() * 1000 + ORIGIN_US) / 1000;
}

/** How far nowUs() may be from `process.hrtime.bigint()` µs: half the bracket its origin was measured in. */
export const CLOCK_ORIGIN_ERROR_US = ORIGIN.bracketUs / 2;
