/**
 * Holding connections (connection-capacity): each client pings with an ack every `pingIntervalMs`,
 * staggered, and the round trips go into an HDR histogram.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nowUs } from '../common/clock.js';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import { recordUs } from './histogram-record.js';
import type { ProtocolClient } from './protocol-client.js';

/**
 * Holds `list`'s connections for `durationMs`. `pingIntervalMs` null: no pings — `ping` is the
 * reference servers' event, and a protocol profile has none (no RTT is measured then).
 */
export async function holdConnections(list: Array<{ client: ProtocolClient | null }>, durationMs: number, pingIntervalMs: number | null, ackTimeoutMs: number): Promise<{ pingsOk: number; pingsFailed: number; pingHdr: string }> {
  const rtt = createLatencyHistogram();
  let ok = 0;
  let failed = 0;
  if (pingIntervalMs === null) {
    await sleep(durationMs);
    return { pingsOk: 0, pingsFailed: 0, pingHdr: encodeHistogram(rtt) };
  }
  const end = Date.now() + durationMs;
  await Promise.all(
    list.map(async (c, i) => {
      await sleep((i / list.length) * pingIntervalMs);
      while (Date.now() < end) {
        const client = c.client;
        if (client?.connected) {
          const t0 = nowUs();
          try {
            await client.emitWithAck('ping', { t: t0 }, ackTimeoutMs);
            recordUs(rtt, nowUs() - t0);
            ok++;
          } catch {
            failed++;
          }
        } else failed++;
        const left = end - Date.now();
        if (left <= 0) break;
        await sleep(Math.min(pingIntervalMs, left));
      }
    }),
  );
  return { pingsOk: ok, pingsFailed: failed, pingHdr: encodeHistogram(rtt) };
}
