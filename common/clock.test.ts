import { describe, expect, it } from 'vitest';
import { CLOCK_ORIGIN_ERROR_US, nowMs, nowUs } from './clock.js';

const hrUs = () => Number(process.hrtime.bigint() / 1000n);

describe('nowUs', () => {
  it('reads CLOCK_MONOTONIC: every hrtime read falls between the nowUs reads around it (±1 µs of rounding)', () => {
    expect(CLOCK_ORIGIN_ERROR_US).toBeLessThan(50);
    let out = 0;
    for (let i = 0; i < 20_000; i++) {
      const a = nowUs();
      const h = hrUs();
      const b = nowUs();
      if (!(a <= h + 1 && h <= b + 1 && a <= b)) out++;
    }
    expect(out).toBe(0);
  });

  it('gives whole µs, and nowMs the same clock in ms', () => {
    const a = nowUs();
    const m = nowMs();
    const b = nowUs();
    expect(Number.isInteger(a)).toBe(true);
    expect(m * 1000).toBeGreaterThanOrEqual(a - 1);
    expect(m * 1000).toBeLessThanOrEqual(b + 1);
  });
});
