import { setTimeout as sleep } from 'node:timers/promises';
import { nowUs } from '../common/clock.js';
import { isLoopbackHost } from './external-driver.js';
import { tcpConnect } from './observe.js';

/** Defaults of watchAccept. */
export const ACCEPT_WATCH_DEFAULTS = {
  /** ms between connection attempts (default 10). */
  intervalMs: 10,
  /** ms one attempt may take before it counts as refused (default 200). */
  attemptTimeoutMs: 200,
  /** ms after which the watch gives up and resolves null (default 60000). */
  timeoutMs: 60_000,
};

/**
 * Watches for the moment a load balancer accepts TCP connections again (after `stop-lb`): polls
 * host:port with connects every `intervalMs` and resolves with the CLOCK_MONOTONIC µs of the first
 * accepted one — observed from outside, independent of what `start-lb` reports — or null when
 * it did not accept within `timeoutMs`, when stopped, or when the host is not on loopback (only
 * loopback is ever a target). Start it before `start-lb`, so the first accept is not missed.
 */
export function watchAccept(url: string, opts: Partial<typeof ACCEPT_WATCH_DEFAULTS> & { signal?: AbortSignal } = {}): { accepted: Promise<number | null>; stop(): void } {
  const o = { ...ACCEPT_WATCH_DEFAULTS, ...opts };
  const u = new URL(url);
  let stopped = false;
  const accepted = (async () => {
    if (!isLoopbackHost(u.hostname)) return null;
    const port = Number(u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const deadline = nowUs() + o.timeoutMs * 1000;
    while (!stopped && !o.signal?.aborted && nowUs() < deadline) {
      const at = nowUs();
      if ((await tcpConnect(host, port, o.attemptTimeoutMs)) === 'accepted') return at;
      await sleep(o.intervalMs);
    }
    return null;
  })();
  return {
    accepted,
    stop: () => {
      stopped = true;
    },
  };
}
