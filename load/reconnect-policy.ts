/**
 * How a generator client waits before each reconnection attempt, as real clients do.
 * - `socketio`: socket.io-client's defaults (reconnectionDelay 1000, reconnectionDelayMax 5000,
 *   randomizationFactor 0.5): 1000·2^n ms ± 50 %, capped at 5000 ms.
 * - `full-jitter`: seed 001's "jittered backoff: 1s, 2s, 4s, 8s... up to 30s", as full jitter:
 *   a uniform draw in [0, min(30000, 1000·2^n)] ms.
 * - `none`: never reconnect.
 */
export const RECONNECT_POLICIES = ['socketio', 'full-jitter', 'none'] as const;
export type ReconnectPolicy = (typeof RECONNECT_POLICIES)[number];

export const SOCKETIO_BACKOFF = { min: 1000, max: 5000, factor: 2, jitter: 0.5 };
export const FULL_JITTER_BACKOFF = { base: 1000, cap: 30_000 };

/** Delay in ms before attempt `attempt` (0 for the first), `rand` in [0, 1). */
export function reconnectDelayMs(policy: ReconnectPolicy, attempt: number, rand: () => number = Math.random): number {
  switch (policy) {
    case 'none':
      return Number.POSITIVE_INFINITY;
    case 'socketio': {
      // engine.io-client's Backoff#duration.
      const { min, max, factor, jitter } = SOCKETIO_BACKOFF;
      let ms = min * Math.pow(factor, attempt);
      const r = rand();
      const deviation = Math.floor(r * jitter * ms);
      ms = (Math.floor(r * 10) & 1) === 0 ? ms - deviation : ms + deviation;
      return Math.min(ms, max);
    }
    case 'full-jitter': {
      const { base, cap } = FULL_JITTER_BACKOFF;
      return Math.floor(rand() * Math.min(cap, base * Math.pow(2, attempt)));
    }
  }
}
