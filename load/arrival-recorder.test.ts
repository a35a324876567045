import { describe, expect, it } from 'vitest';
import { nowUs } from '../common/clock.js';
import { ArrivalRecorder } from './arrival-recorder.js';
import { decodeHistogram } from '../model/histogram.js';

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
    // Deliveries count first arrivals only: the duplicate is not one.
    expect(rec.takeSecond().received).toBe(4);
    expect(rec.takeSecond().received).toBe(0);
    expect(rec.crossArrivalBins().reduce((s, [, n]) => s + n, 0)).toBe(2); // the duplicate is not an arrival of traffic
  });

  it('a message for another room, or at a non-member, is a stray: in the ledger as unexpected, never timed nor counted as a delivery', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs();
    rec.measureFromUs = t0;
    const member = { id: 1, nodeId: 'node-1', room: 'r', role: 'member' as const };
    const other = { id: 2, nodeId: 'node-1', room: 'other', role: 'member' as const };
    const publisher = { id: 3, nodeId: 'node-1', room: 'r', role: 'publisher' as const };
    rec.onArrival(member, msg(0, 0, t0 + 1, 'node-2'));
    rec.onArrival(other, msg(0, 0, t0 + 1, 'node-2')); // leaked into room `other`
    rec.onArrival(publisher, msg(0, 1, t0 + 1, 'node-2')); // at a client in no room as a member
    expect(rec.strays).toBe(2);
    expect(rec.totals().all.totalCount).toBe(1);
    expect(rec.takeSecond().received).toBe(1);
    const acc = rec.ledger.account([{ receiver: 1, pub: 0, sent: 1, cross: true }]);
    expect(acc.unexpected).toBe(2);
    expect(acc.total.received).toBe(1);
  });

  it('keeps latency per receiving and per publishing node, by node id', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs() - 1_000_000;
    rec.measureFromUs = t0;
    const a = { id: 1, nodeId: 'node-1', room: 'r', role: 'member' as const };
    const b = { id: 2, nodeId: 'node-2', room: 'r', role: 'member' as const };
    rec.onArrival(a, msg(0, 0, t0 + 1, 'node-3'));
    rec.onArrival(b, msg(0, 0, t0 + 1, 'node-3'));
    rec.onArrival(b, msg(1, 0, t0 + 2, 'node-1'));
    const [sec] = rec.perSecondEncoded();
    expect(Object.keys(sec.rx).sort()).toEqual(['node-1', 'node-2']);
    expect(Object.keys(sec.px).sort()).toEqual(['node-1', 'node-3']);
    const n = (enc: string) => decodeHistogram(enc).totalCount;
    expect([n(sec.rx['node-1']), n(sec.rx['node-2'])]).toEqual([1, 2]);
    expect([n(sec.px['node-1']), n(sec.px['node-3'])]).toEqual([1, 2]);
  });

  it('seals old seconds’ per-node histograms and still counts a late arrival into its intended second', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs() - 10_000_000;
    rec.measureFromUs = t0;
    const a = { id: 1, nodeId: 'node-1', room: 'r', role: 'member' as const };
    rec.onArrival(a, msg(0, 0, t0 + 1, 'node-2'));
    rec.sealBefore(5); // second 0 is sealed: its open histograms are encoded and dropped
    rec.onArrival(a, msg(0, 1, t0 + 2, 'node-2')); // arrives later, intended in second 0
    const [sec] = rec.perSecondEncoded();
    expect(sec.s).toBe(0);
    expect(decodeHistogram(sec.rx['node-1']).totalCount).toBe(2);
    expect(decodeHistogram(sec.px['node-2']).totalCount).toBe(2);
  });

  it('keeps same/cross counts and values across sealing (dense while open, packed after), late arrivals included', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs() - 10_000_000;
    rec.measureFromUs = t0;
    const a = { id: 1, nodeId: 'node-1' };
    rec.onArrival(a, msg(0, 0, t0 + 1, 'node-1')); // same, second 0
    rec.onArrival(a, msg(0, 1, t0 + 2, 'node-2')); // cross, second 0
    rec.onArrival(a, msg(0, 2, t0 + 1_000_001, 'node-2')); // cross, second 1
    const before = rec.totals();
    rec.sealBefore(5);
    const after = rec.totals();
    expect([after.same.totalCount, after.cross.totalCount]).toEqual([1, 2]);
    expect([after.same.maxValue, after.cross.maxValue, after.cross.minNonZeroValue]).toEqual([before.same.maxValue, before.cross.maxValue, before.cross.minNonZeroValue]);
    rec.onArrival(a, msg(0, 3, t0 + 3, 'node-1')); // late, into the sealed second 0
    rec.sealBefore(5);
    expect(rec.perSecondEncoded().map((x) => [x.s, x.same, x.cross])).toEqual([
      [0, 2, 1],
      [1, 0, 1],
    ]);
  });

  it('keeps a ledger stream per publisher at a receiver that hears several, whatever their ids', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs();
    rec.measureFromUs = t0;
    const a: { id: number; nodeId: string } = { id: 7, nodeId: 'node-1' };
    for (const pub of [999, 3, 999, 3, 1_000_000]) rec.onArrival(a, msg(pub, pub === 3 ? 0 : 1, t0 + 1, 'node-1'));
    const acc = rec.ledger.account([
      { receiver: 7, pub: 999, sent: 2, cross: false },
      { receiver: 7, pub: 3, sent: 1, cross: false },
      { receiver: 7, pub: 1_000_000, sent: 2, cross: false },
    ]);
    // pub 999 got seq 1 twice and 1,000,000 once (seq 0 of both lost); pub 3 got seq 0 twice: two duplicates.
    expect(acc.total).toMatchObject({ expected: 5, received: 3, lost: 2, duplicated: 2 });
    expect(acc.unexpected).toBe(0);
  });

  it('measures CPU over the receive window, without any publishing', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs();
    rec.measureFromUs = t0;
    const a = { id: 1, nodeId: 'node-1', room: 'r', role: 'member' as const };
    for (let i = 0; i < 2000; i++) rec.onArrival(a, msg(0, i, t0 + i, 'node-1'));
    const until = nowUs() + 5_000;
    while (nowUs() < until); // CPU spent while receiving
    rec.closeCpuWindow();
    expect(rec.measuredDeliveries).toBe(2000);
    expect(rec.measuredCpuUs).toBeGreaterThan(0);
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
  it('a stamp with a seq but no non-negative integer pub is not an arrival: dropped, never thrown inside the message handler', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs();
    rec.measureFromUs = t0;
    const a: { id: number; nodeId: string } = { id: 1, nodeId: 'node-1' };
    for (const pub of [undefined, -1, 2.5, '0']) {
      const bad = { room: 'r', payload: { pub, seq: 1, t: t0 + 1, n: 'node-1' } };
      expect(() => rec.onArrival(a, bad)).not.toThrow();
      expect(() => rec.onReplayed(a, bad)).not.toThrow();
    }
    expect(rec.takeSecond().received).toBe(0);
    expect(rec.totals().all.totalCount).toBe(0);
    // A good stamp afterwards is still counted.
    rec.onArrival(a, msg(0, 1, t0 + 1, 'node-1'));
    expect(rec.takeSecond().received).toBe(1);
    // The inline stream's fast path needs a stream: a receiver without one does not take it (onStamp trusts its caller's parse).
    expect(() => rec.onStamp({ id: 2, nodeId: 'node-1' }, 'r', { seq: 1, t: t0 + 1, n: 'node-1' } as never)).not.toThrow();
  });
});
