/**
 * A worker's results at collect: every expected delivery (from the schedule) accounted in the
 * ledger, losses classified, windows, latency histograms and the worker's own health.
 */
import { nowUs } from '../common/clock.js';
import { encodeHistogram } from '../model/histogram.js';
import type { ArrivalRecorder } from './arrival-recorder.js';
import type { Disconnection, ToWorker, WorkerResults } from './ipc.js';
import { classifyLosses, type MemberView } from './loss-classes.js';

export interface CollectInput {
  msg: Extract<ToWorker, { type: 'collect' }>;
  workerId: number;
  /** Every client of the worker (members are those with role `member` and a room). */
  clients: Array<MemberView & { role: 'member' | 'publisher' | null }>;
  /** With `receive.echo` or `publish.join`: each publisher's id and its client, a receiver too. */
  echoes: Array<{ pub: number; state: MemberView }>;
  /** `receive.echo`: a publisher receives its own stream. */
  echo: boolean;
  /** `publish.join`: a publisher joined its room and receives the other publishers' streams of it. */
  publisherJoins: boolean;
  rec: ArrivalRecorder;
  healthSeries: Array<{ atUs: number; cpu: number; lag: number }>;
  disconnections: Disconnection[];
  disconnects: number;
}

export function collectResults(input: CollectInput): WorkerResults {
  const { msg, workerId, rec, healthSeries, disconnections, disconnects } = input;
  const ledger = rec.ledger;
  const byRoom = new Map<string, typeof msg.publishers>();
  for (const p of msg.publishers) {
    const l = byRoom.get(p.room) ?? [];
    l.push(p);
    byRoom.set(p.room, l);
  }
  const members: MemberView[] = input.clients.filter((c) => c.role === 'member' && c.room !== null);
  // A publisher as a receiver — in a room of its own (a synthetic key) holding the streams it is
  // expected to receive: its own when the server echoes (`receive.echo`), the other publishers' of
  // its room when it joined the room (`publish.join`).
  const own = new Map(input.echoes.map((e) => [e.pub, e.state]));
  for (const p of msg.publishers) {
    const state = own.get(p.pub);
    if (state === undefined) continue;
    const streams = (input.publisherJoins ? (byRoom.get(p.room) ?? []) : [p]).filter((q) => q.pub !== p.pub || input.echo);
    if (streams.length === 0) continue;
    const key = `\u0000pub:${p.pub}`;
    byRoom.set(key, streams);
    members.push({ ...state, room: key });
  }
  const expectations = function* (fromUs = Number.NEGATIVE_INFINITY, toUs = Number.POSITIVE_INFINITY) {
    for (const c of members) {
      for (const p of byRoom.get(c.room!) ?? []) {
        // Seqs whose intended time lies in [fromUs, toUs).
        const from = Number.isFinite(fromUs) ? Math.max(0, Math.ceil((fromUs - p.t0Us) / p.intervalUs)) : 0;
        // Expected from the schedule, not from what the publisher got out: what never left it is lost (never sent).
        const to = Number.isFinite(toUs) ? Math.min(p.scheduled, Math.max(0, Math.ceil((toUs - p.t0Us) / p.intervalUs))) : p.scheduled;
        yield { receiver: c.id, pub: p.pub, from, sent: Math.max(from, to), cross: p.nodeId !== c.joinNode };
      }
    }
  };
  const accounting = ledger.account(expectations());

  // Classify every lost delivery, and attribute every expected one to its nodes (load/loss-classes.ts).
  const { losses, samples, tally, windowTally } = classifyLosses({ members, byRoom, ledger, slowArrivals: rec.slowArrivals, req: msg, openEnd: nowUs() });

  const windows = msg.windows.map((w, i) => {
    const acc = ledger.account(expectations(w.startUs, w.endUs));
    return { name: w.name, accounting: acc.total, sameNode: acc.sameNode, crossNode: acc.crossNode, perNode: { rx: windowTally[i].rx, px: windowTally[i].px } };
  });
  rec.closeCpuWindow();
  const measured = healthSeries.filter((h) => h.atUs > rec.measureFromUs + 1e6);
  // Burst: how many deliveries one broadcast lands on this worker (its members of the room),
  // averaged over the rooms that have a publisher.
  const roomMembers = new Map<string, number>();
  for (const c of members) roomMembers.set(c.room!, (roomMembers.get(c.room!) ?? 0) + 1);
  const pubRooms = msg.publishers.map((p) => roomMembers.get(p.room) ?? 0);
  return {
    type: 'results',
    workerId,
    hdr: (() => {
      const t = rec.totals();
      return { all: encodeHistogram(t.all), same: encodeHistogram(t.same), cross: encodeHistogram(t.cross), queued: encodeHistogram(rec.queued), replayed: encodeHistogram(rec.replayed) };
    })(),
    accounting,
    losses,
    perNode: { rx: tally.rx, px: tally.px },
    lostConnectedSamples: samples,
    windows,
    perSecond: rec.perSecondEncoded(),
    disconnections,
    crossArrivalBins: rec.crossArrivalBins(),
    disconnects,
    clockAnomalies: rec.clockAnomalies,
    latencyClamped: rec.latencyClamped,
    health: {
      cpuPercent: measured.map((h) => h.cpu),
      lagP99Ms: measured.map((h) => h.lag),
      cpuPerDeliveryUs: rec.measuredDeliveries > 0 ? rec.measuredCpuUs / rec.measuredDeliveries : null,
      burstSize: pubRooms.length ? pubRooms.reduce((a, b) => a + b, 0) / pubRooms.length : 0,
    },
  };
}
