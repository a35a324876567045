import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nextDelayMs, reconnectDelayMs, reconnectSpecFor } from './reconnect-policy.js';

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

describe('protocol.reconnect presets', () => {
  it('socketio-client: 1 s … 5 s ±50 %, unlimited, ends on a server disconnect', () => {
    const s = reconnectSpecFor('socketio-client');
    expect(s.stopOnServerDisconnect).toBe(true);
    expect(nextDelayMs(s, 0, () => 0)).toBe(1000);
    expect(nextDelayMs(s, 50, () => 0.999)).toBe(5000);
    expect(Number.isFinite(nextDelayMs(s, 1000, () => 0.5))).toBe(true);
  });

  it('seed-000: 10 tries, then gives up', () => {
    const s = reconnectSpecFor('seed-000');
    expect(nextDelayMs(s, 9, () => 0)).toBe(5000);
    expect(nextDelayMs(s, 10, () => 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('seed-004: 1, 2, 4, 8, 16 s without jitter, then gives up', () => {
    const s = reconnectSpecFor('seed-004');
    expect([0, 1, 2, 3, 4, 5].map((n) => nextDelayMs(s, n, () => 0.7))).toEqual([1000, 2000, 4000, 8000, 16000, Number.POSITIVE_INFINITY]);
  });

  it('seed-001: full jitter up to 30 s, never gives up', () => {
    const s = reconnectSpecFor('seed-001');
    expect(nextDelayMs(s, 20, () => 0.5)).toBe(15000);
    expect(nextDelayMs(s, 2, () => 0.5)).toBe(2000);
  });

  it('the scenario policies map onto the object form unchanged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        expect(nextDelayMs(reconnectSpecFor('forever'), n, () => r)).toBe(reconnectDelayMs('socketio', n, () => r));
      }),
    );
    expect(reconnectSpecFor('none').maxTries).toBe(0);
    expect(nextDelayMs({ initialMs: 500, maxMs: 800, factor: 3, jitter: 'none', maxTries: 3 }, 1)).toBe(800);
  });
});
