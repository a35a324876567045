import { describe, expect, it } from 'vitest';
import { ReceiverLedger, type TallyCell } from './ledger.js';
import type { PlannedWindow } from './plan.js';

/** Seq n of every publisher is intended at 1000 + 100·n ms after t0. */
const intendedMs = (_pub: number, seq: number) => 1000 + 100 * seq;
const sum = (cells: TallyCell[], f: (c: TallyCell) => number) => cells.reduce((a, c) => a + f(c), 0);

describe('k6 receiver ledger: expected from the schedule, every missing delivery classified', () => {
  it('expects every planned seq of every planned publisher, heard or not; a stream never heard has no path', () => {
    const l = new ReceiverLedger();
    for (let seq = 0; seq < 10; seq++) l.record(0, seq, 10, { path: 'cross' });
    const cells = l.close({ pubs: [0, 7], perPublisher: 10, intendedMs, down: [[-1e15, 500]], marginMs: 500, endMs: 5000 });
    expect(cells).toEqual([
      { path: 'cross', window: null, expected: 10, received: 10, lost: { connected: 0, disconnected: 0, publisher_down: 0 } },
      // Publisher 7 never reached this receiver while it was connected: the cluster's failure.
      { path: 'unknown', window: null, expected: 10, received: 0, lost: { connected: 10, disconnected: 0, publisher_down: 0 } },
    ]);
  });

  it('tells lost while the publisher was down (its spans from its payloads) from lost while the receiver was down (margin before the drop)', () => {
    const l = new ReceiverLedger();
    // Seqs 0–9 at 1000…1900 ms. The publisher was down 1250–1450 (seqs 2, 3, 4 with a 100 ms margin); the receiver 1700–1850
    // (seqs 7, 8, and 6 with a 100 ms margin); seq 1 simply never came.
    for (const seq of [0, 5, 9]) l.record(3, seq, 10, { path: 'same', pubDown: [[1250, 1450]] });
    const cells = l.close({ pubs: [3], perPublisher: 10, intendedMs, down: [[-1e15, 900], [1700, 1850]], marginMs: 100, endMs: 5000 });
    expect(cells).toHaveLength(1);
    expect(cells[0]).toMatchObject({ path: 'same', expected: 10, received: 3, lost: { publisher_down: 3, disconnected: 3, connected: 1 } });
  });

  it('splits expected and received by planned window of intended send time, and counts duplicates and reordering per arrival', () => {
    const windows: PlannedWindow[] = [
      { name: 'before', fromMs: 1000, toMs: 1300, fault: false },
      { name: 'redis-outage', fromMs: 1300, toMs: 1600, fault: true },
    ];
    const l = new ReceiverLedger();
    expect(l.record(1, 0, 8, { path: 'cross' }).kind).toBe('new');
    expect(l.record(1, 2, 8, { path: 'cross' }).kind).toBe('new');
    expect(l.record(1, 1, 8, { path: 'cross' }).kind).toBe('reordered');
    expect(l.record(1, 1, 8, { path: 'cross' }).kind).toBe('duplicate');
    expect(l.record(1, 8, 8, { path: 'cross' }).kind).toBe('unexpected');
    const cells = l.close({ pubs: [1], perPublisher: 8, intendedMs, down: [], marginMs: 0, windows, endMs: 5000 });
    const by = Object.fromEntries(cells.map((c) => [c.window ?? 'none', c]));
    expect(by.before).toMatchObject({ expected: 3, received: 3 });
    expect(by['redis-outage']).toMatchObject({ expected: 3, received: 0, lost: { connected: 3 } });
    expect(by.none).toMatchObject({ expected: 2, received: 0 });
    expect(sum(cells, (c) => c.expected)).toBe(8);
    expect(sum(cells, (c) => c.received + c.lost.connected + c.lost.disconnected + c.lost.publisher_down)).toBe(8);
  });
});
