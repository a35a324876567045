import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { reconnectDelayMs } from './reconnect-policy.js';

describe('reconnectDelayMs', () => {
  it('socketio: 1000·2^n ± 50 %, never above 5000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        const d = reconnectDelayMs('socketio', n, () => r);
        const base = 1000 * 2 ** n;
        expect(d).toBeLessThanOrEqual(5000);
        expect(d).toBeGreaterThanOrEqual(Math.min(base * 0.5, 5000) - 1);
      }),
    );
    expect(reconnectDelayMs('socketio', 0, () => 0)).toBe(1000);
    expect(reconnectDelayMs('socketio', 0, () => 0.15)).toBe(1075); // odd tenth → plus
  });

  it('full-jitter: uniform in [0, min(30 s, 1 s·2^n)]', () => {
    expect(reconnectDelayMs('full-jitter', 0, () => 0.999)).toBe(999);
    expect(reconnectDelayMs('full-jitter', 3, () => 0.5)).toBe(4000);
    expect(reconnectDelayMs('full-jitter', 10, () => 0.999)).toBe(29_970);
    expect(reconnectDelayMs('full-jitter', 2, () => 0)).toBe(0);
  });

  it('none never reconnects', () => {
    expect(reconnectDelayMs('none', 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
