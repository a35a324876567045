import { describe, expect, it } from 'vitest';
import { nowUs } from '../common/clock.js';
import { ArrivalRecorder } from './arrival-recorder.js';

const msg = (pub: number, seq: number, t: number, n: string, q?: 1) => ({ room: 'r', payload: { pub, seq, t, n, ...(q ? { q } : {}) } });

describe('ArrivalRecorder', () => {
  it('times measured arrivals once, split same/cross by the receiver’s node, and keeps warm-up, duplicates and queued ones out', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs();
    rec.measureFromUs = t0;
    const a = { id: 1, nodeId: 'node-1' };
    const b = { id: 2, nodeId: 'node-2' };
    rec.onArrival(a, msg(0, 0, t0 - 5_000_000, 'node-1')); // warm-up: accounted, not timed
    rec.onArrival(a, msg(0, 1, t0 + 1, 'node-1')); // same-node
    rec.onArrival(b, msg(0, 1, t0 + 1, 'node-1')); // cross-node
    rec.onArrival(b, msg(0, 1, t0 + 1, 'node-1')); // duplicate
    rec.onArrival(b, msg(0, 2, t0 + 2, 'node-1', 1)); // queued by its publisher
    const tot = rec.totals();
    expect(tot.same.totalCount).toBe(1);
    expect(tot.cross.totalCount).toBe(1);
    expect(tot.all.totalCount).toBe(2);
    expect(rec.queued.totalCount).toBe(1);
    expect(rec.perSecondEncoded()).toEqual([expect.objectContaining({ s: 0, same: 1, cross: 1 })]);
    const acc = rec.ledger.account([
      { receiver: 1, pub: 0, sent: 3, cross: false },
      { receiver: 2, pub: 0, sent: 3, cross: true },
    ]);
    expect(acc.total).toMatchObject({ expected: 6, received: 4, lost: 2, duplicated: 1 });
    expect(rec.takeSecond().received).toBe(5);
    expect(rec.takeSecond().received).toBe(0);
    expect(rec.crossArrivalBins().reduce((s, [, n]) => s + n, 0)).toBe(2); // the duplicate is not an arrival of traffic
  });

  it('counts latencies above the histogram top (120 s) that it records as 120 s', () => {
    const rec = new ArrivalRecorder();
    const now = nowUs();
    rec.measureFromUs = now - 200_000_000;
    const a = { id: 1, nodeId: 'node-1' };
    rec.onArrival(a, msg(0, 0, now - 150_000_000, 'node-1')); // 150 s late: clamped
    rec.onArrival(a, msg(0, 1, now - 1_000, 'node-1')); // 1 ms: not
    expect(rec.latencyClamped).toBe(1);
    expect(rec.totals().all.maxValue).toBeLessThanOrEqual(120_000_000 * 1.001);
  });
});
