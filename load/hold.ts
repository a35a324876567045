/**
 * Holding connections (connection-capacity): each client pings with an ack every `pingIntervalMs`,
 * staggered, and the round trips go into an HDR histogram.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nowUs } from '../common/clock.js';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import { recordUs } from './histogram-record.js';
import type { ProtocolClient } from './protocol-client.js';

/** The pinger wakes at most this often; each wake-up pings every client whose time came. */
const TICK_MS = 10;

/**
 * Holds `list`'s connections for `durationMs`. `pingIntervalMs` null: no pings — `ping` is the
 * reference servers' event, and a protocol profile has none (no RTT is measured then).
 *
 * Client i pings at (i / n + k) × `pingIntervalMs` from the start, k = 0, 1, … while before the
 * end, and never while its previous ping still waits for its ack. One timer walks the clients in
 * that order, so holding costs a connection no timer, promise or closure of its own between its
 * pings (issue 17: memory per connection under load) — only a byte saying a ping is in flight.
 * Resolves once `durationMs` has passed and every ping sent has been answered or timed out.
 */
export async function holdConnections(list: Array<{ client: ProtocolClient | null }>, durationMs: number, pingIntervalMs: number | null, ackTimeoutMs: number): Promise<{ pingsOk: number; pingsFailed: number; pingHdr: string }> {
  const rtt = createLatencyHistogram();
  let ok = 0;
  let failed = 0;
  if (pingIntervalMs === null || list.length === 0) {
    await sleep(durationMs);
    return { pingsOk: 0, pingsFailed: 0, pingHdr: encodeHistogram(rtt) };
  }
  const n = list.length;
  const start = Date.now();
  const end = start + durationMs;
  const inFlight = new Uint8Array(n);
  let pending = 0;
  /** The next client in turn, as (round × n + index). */
  let turn = 0;
  const dueAt = (t: number) => start + (t / n) * pingIntervalMs;
  return new Promise((resolve) => {
    let walking = true;
    const settle = () => {
      if (!walking && pending === 0) resolve({ pingsOk: ok, pingsFailed: failed, pingHdr: encodeHistogram(rtt) });
    };
    const ping = (i: number) => {
      const client = list[i].client;
      if (!client?.connected) {
        failed++;
        return;
      }
      inFlight[i] = 1;
      pending++;
      const t0 = nowUs();
      client.emitWithAck('ping', { t: t0 }, ackTimeoutMs).then(
        () => {
          recordUs(rtt, nowUs() - t0);
          ok++;
        },
        () => {
          failed++;
        },
      ).finally(() => {
        inFlight[i] = 0;
        pending--;
        settle();
      });
    };
    const walk = () => {
      const now = Date.now();
      while (dueAt(turn) <= now && dueAt(turn) < end) {
        const i = turn % n;
        turn++;
        // Still waiting for its last ack: its next ping is the one after (one ping in flight at most).
        if (inFlight[i] === 0) ping(i);
      }
      if (now >= end) {
        walking = false;
        settle();
        return;
      }
      // The next ping's time, or the end of the hold when no ping is due before it.
      setTimeout(walk, Math.max(TICK_MS, Math.min(dueAt(turn), end) - now));
    };
    walk();
  });
}
