/**
 * The worker's loss classification at collect: every expected (scheduled message × member) delivery
 * that did not arrive gets exactly one class — never sent (it never left the publisher), lost
 * while the publisher was down, lost while the receiver was disconnected, or lost while both were
 * connected (the cluster's failure) — and every expected, lost and late delivery is attributed to
 * the receiver's node (where it joined) and the publisher's node, for the run and for each window.
 */
import type { DeliveryLedger } from './delivery-ledger.js';
import type { LossClasses, NodeCounts, PublisherReport, Span, ToWorker, WorkerResults } from './ipc.js';

export const emptyLoss = (): LossClasses => ({ lostConnected: 0, lostDisconnected: 0, lostPublisherDown: 0, neverSent: 0, late: 0 });
const emptyNodeCounts = (): NodeCounts => ({ expected: 0, lost: 0, neverSent: 0, late: 0 });

/** Per-node counts of one scope (the run, or one window), by receiving and by publishing node. */
export class NodeTally {
  readonly rx: Record<string, NodeCounts> = {};
  readonly px: Record<string, NodeCounts> = {};
  of(side: 'rx' | 'px', node: string | null): NodeCounts {
    const key = node ?? 'unknown';
    return (this[side][key] ??= emptyNodeCounts());
  }
  add(rx: string | null, px: string, field: keyof NodeCounts, n = 1): void {
    this.of('rx', rx)[field] += n;
    this.of('px', px)[field] += n;
  }
}

function inSpans(spans: Span[], t: number, marginUs: number, openEnd: number): boolean {
  for (const [a, b] of spans) if (t >= a - marginUs && t <= (b ?? openEnd)) return true;
  return false;
}

/** A member as collect sees it. */
export interface MemberView {
  id: number;
  nodeId: string | null;
  joinNode: string | null;
  room: string | null;
  down: Span[];
}

export function classifyLosses(input: {
  members: MemberView[];
  byRoom: Map<string, PublisherReport[]>;
  ledger: DeliveryLedger;
  slowArrivals: ReadonlyArray<{ t: number; at: number; cross: boolean; rx: string | null; px: string }>;
  req: Extract<ToWorker, { type: 'collect' }>;
  /** End of a span still open (µs). */
  openEnd: number;
}): { losses: WorkerResults['losses']; samples: WorkerResults['lostConnectedSamples']; tally: NodeTally; windowTally: NodeTally[] } {
  const { members, byRoom, ledger, slowArrivals, req, openEnd } = input;
  const losses = { total: emptyLoss(), sameNode: emptyLoss(), crossNode: emptyLoss() };
  const samples: WorkerResults['lostConnectedSamples'] = [];
  // Per-node attribution: receivers by the node they joined on, publishers by the node they published from.
  const tally = new NodeTally();
  const windowTally = req.windows.map(() => new NodeTally());
  const seqRange = (p: PublisherReport, w: { startUs: number; endUs: number }): [number, number] => {
    const from = Math.max(0, Math.ceil((w.startUs - p.t0Us) / p.intervalUs));
    return [from, Math.max(from, Math.min(p.scheduled, Math.max(0, Math.ceil((w.endUs - p.t0Us) / p.intervalUs))))];
  };
  for (const c of members) {
    for (const p of byRoom.get(c.room!) ?? []) {
      const cls = p.nodeId !== c.joinNode ? losses.crossNode : losses.sameNode;
      tally.add(c.joinNode, p.nodeId, 'expected', p.scheduled);
      const ranges = req.windows.map((w) => seqRange(p, w));
      ranges.forEach(([a, b], i) => windowTally[i].add(c.joinNode, p.nodeId, 'expected', b - a));
      for (const seq of ledger.missing(c.id, p.pub, 0, p.scheduled)) {
        const t = p.t0Us + seq * p.intervalUs;
        let key: keyof LossClasses;
        const never = seq >= p.sent;
        tally.add(c.joinNode, p.nodeId, 'lost');
        if (never) tally.add(c.joinNode, p.nodeId, 'neverSent');
        ranges.forEach(([a, b], i) => {
          if (seq < a || seq >= b) return;
          windowTally[i].add(c.joinNode, p.nodeId, 'lost');
          if (never) windowTally[i].add(c.joinNode, p.nodeId, 'neverSent');
        });
        if (never) key = 'neverSent';
        else if (inSpans(p.down, t, req.inflightMarginUs, openEnd)) key = 'lostPublisherDown';
        else if (inSpans(c.down, t, req.inflightMarginUs, openEnd)) key = 'lostDisconnected';
        else {
          key = 'lostConnected';
          if (samples.length < 20) samples.push({ receiver: c.id, pub: p.pub, seq, node: c.nodeId });
        }
        cls[key]++;
        losses.total[key]++;
      }
    }
  }
  for (const a of slowArrivals) {
    if (req.faults.some((f) => a.t >= f.startUs && a.t < f.endUs && a.at >= f.endUs)) {
      losses.total.late++;
      (a.cross ? losses.crossNode : losses.sameNode).late++;
      tally.add(a.rx, a.px, 'late');
      req.windows.forEach((w, i) => {
        if (a.t >= w.startUs && a.t < w.endUs) windowTally[i].add(a.rx, a.px, 'late');
      });
    }
  }

  return { losses, samples, tally, windowTally };
}
