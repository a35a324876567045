/**
 * How a generator client waits before each reconnection attempt, as real clients do.
 *
 * The scenario option `--reconnect` (kept as it was):
 * - `socketio`: socket.io-client's backoff (reconnectionDelay 1000, reconnectionDelayMax 5000,
 *   randomizationFactor 0.5): 1000·2^n ms ± 50 %, capped at 5000 ms — forever, after any close.
 * - `full-jitter`: seed 001's "jittered backoff: 1s, 2s, 4s, 8s... up to 30s", as full jitter:
 *   a uniform draw in [0, min(30000, 1000·2^n)] ms, forever.
 * - `none`: never reconnect.
 *
 * The profile's `protocol.reconnect` (config/protocol.ts): a preset or the object form
 * (ReconnectObject), with a try limit and whether a server-initiated disconnect ends
 * reconnection. `reconnectSpecFor` maps both onto one resolved object; `nextDelayMs` is what the
 * worker asks before each attempt.
 */
import type { ReconnectObject, ReconnectSpec } from '../config/protocol.js';

export const RECONNECT_POLICIES = ['socketio', 'full-jitter', 'none'] as const;
export type ReconnectPolicy = (typeof RECONNECT_POLICIES)[number];

export const SOCKETIO_BACKOFF = { min: 1000, max: 5000, factor: 2, jitter: 0.5 };
export const FULL_JITTER_BACKOFF = { base: 1000, cap: 30_000 };

/** The presets of `protocol.reconnect`, each as the object form. */
export const RECONNECT_PRESET_SPECS: Record<Exclude<ReconnectSpec, object>, ReconnectObject> = {
  // socket.io-client's Manager defaults (reconnection: true, reconnectionAttempts: Infinity,
  // reconnectionDelay: 1000, reconnectionDelayMax: 5000, randomizationFactor: 0.5). After the
  // server's `socket.disconnect()` ("io server disconnect") the client does not reconnect by itself.
  'socketio-client': { initialMs: 1000, maxMs: 5000, factor: 2, jitter: 'randomization', randomization: 0.5, stopOnServerDisconnect: true },
  // Seed 000's ScalableWebSocketClient: socket.io-client with `reconnectionAttempts: 10`,
  // `reconnectionDelay: 1000`, `reconnectionDelayMax: 5000` (seed 000 lines 821-824). Its
  // `handleServerShutdown` reconnects elsewhere only `if (this.config.urls.length > 1)` (lines
  // 978-984): with the one load-balancer URL, a server disconnect ends it, as in socket.io-client.
  'seed-000': { initialMs: 1000, maxMs: 5000, factor: 2, jitter: 'randomization', randomization: 0.5, maxTries: 10, stopOnServerDisconnect: true },
  // Seed 001: "Client reconnects with jittered backoff: 1s, 2s, 4s, 8s... up to 30s",
  // `delay = baseDelay * Math.pow(2, attempt) + jitter` (lines 81-82); no limit is given. The jitter's
  // size is not given either: taken as full jitter, as `--reconnect full-jitter` always has.
  'seed-001': { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 'full' },
  // Seed 004's WebSocketClient: `maxReconnectAttempts: 5, initialReconnectDelay: 1000,
  // maxReconnectDelay: 30000`, delay `min(initial·2^(attempts-1), max)` without jitter (lines
  // 1329-1331, 1489-1491); `if (event.code !== 1000 && …) scheduleReconnect()` (line 1379): a normal
  // close by the server ends it.
  'seed-004': { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 'none', maxTries: 5, stopOnServerDisconnect: true },
  // What the generator always did (`--reconnect socketio`): socket.io-client's backoff, after any close, forever.
  forever: { initialMs: 1000, maxMs: 5000, factor: 2, jitter: 'randomization', randomization: 0.5 },
};

/** A profile's `reconnect`, else the scenario's `--reconnect` policy, as the object form. */
export function reconnectSpecFor(spec: ReconnectSpec | ReconnectPolicy | undefined): ReconnectObject {
  if (spec === undefined || spec === 'socketio') return RECONNECT_PRESET_SPECS.forever;
  if (spec === 'full-jitter') return { initialMs: FULL_JITTER_BACKOFF.base, maxMs: FULL_JITTER_BACKOFF.cap, factor: 2, jitter: 'full' };
  if (spec === 'none') return { ...RECONNECT_PRESET_SPECS.forever, maxTries: 0 };
  if (typeof spec === 'string') return RECONNECT_PRESET_SPECS[spec];
  return spec;
}

/**
 * Delay in ms before attempt `attempt` (0 for the first) under `spec`, `rand` in [0, 1);
 * +Infinity once `maxTries` attempts were made (the client gave up).
 */
export function nextDelayMs(spec: ReconnectObject, attempt: number, rand: () => number = Math.random): number {
  if (spec.maxTries !== undefined && attempt >= spec.maxTries) return Number.POSITIVE_INFINITY;
  const base = spec.initialMs * Math.pow(spec.factor, attempt);
  switch (spec.jitter) {
    case 'none':
      return Math.min(base, spec.maxMs);
    case 'full':
      return Math.floor(rand() * Math.min(spec.maxMs, base));
    case 'randomization': {
      // engine.io-client's Backoff#duration.
      const r = rand();
      const deviation = Math.floor(r * (spec.randomization ?? 0.5) * base);
      const ms = (Math.floor(r * 10) & 1) === 0 ? base - deviation : base + deviation;
      return Math.min(ms, spec.maxMs);
    }
  }
}

/** Delay in ms before attempt `attempt` (0 for the first) under a scenario policy, `rand` in [0, 1). */
export function reconnectDelayMs(policy: ReconnectPolicy, attempt: number, rand: () => number = Math.random): number {
  return nextDelayMs(reconnectSpecFor(policy), attempt, rand);
}
