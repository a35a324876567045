import { describe, expect, it } from 'vitest';
import { peakConnections, perNodeReport, perNodeWindow } from './per-node.js';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import type { WorkerResults, WorkerTick } from '../load/ipc.js';

const tick = (workerId: number, atUs: number, connections: number): WorkerTick => ({ type: 'tick', workerId, atUs, sent: 0, received: 0, connections, hdr: '', strays: 0, cpuPercent: 0, lagP99Ms: 0 });

function hist(...us: number[]): string {
  const h = createLatencyHistogram();
  for (const v of us) h.recordValue(v);
  return encodeHistogram(h);
}

describe('peakConnections', () => {
  it('is the largest sum of every worker’s latest report, not the last nor a count of successes', () => {
    const ticks = [tick(0, 1, 100), tick(1, 2, 90), tick(0, 3, 150), tick(1, 4, 150), tick(0, 5, 20), tick(1, 6, 10)];
    expect(peakConnections(ticks)).toBe(300);
    // Order of arrival does not matter: the reports are sorted by time.
    expect(peakConnections([...ticks].reverse())).toBe(300);
  });

  it('is null (not measured) without any report', () => {
    expect(peakConnections([])).toBeNull();
  });
});

describe('perNodeReport', () => {
  const worker = (perSecond: WorkerResults['perSecond'], rx: Record<string, { expected: number; lost: number; neverSent: number; late: number }>): WorkerResults =>
    ({ perSecond, perNode: { rx, px: {} }, windows: [{ name: 'w', perNode: { rx, px: {} } }] }) as unknown as WorkerResults;

  it('merges latency and counts per node across workers, and reads windows by their whole seconds', () => {
    const a = worker([{ s: 0, hdr: '', same: 0, cross: 0, rx: { 'node-1': hist(1000, 2000) }, px: {} }, { s: 1, hdr: '', same: 0, cross: 0, rx: { 'node-2': hist(900_000) }, px: {} }], {
      'node-1': { expected: 10, lost: 1, neverSent: 1, late: 0 },
    });
    const b = worker([{ s: 1, hdr: '', same: 0, cross: 0, rx: { 'node-1': hist(3000) }, px: {} }], { 'node-1': { expected: 5, lost: 0, neverSent: 0, late: 2 }, 'node-2': { expected: 4, lost: 4, neverSent: 0, late: 0 } });
    const r = perNodeReport([a, b]);
    expect(r.receiving.map((x) => [x.node, x.latency_ms.count, x.expected, x.received, x.lost, x.neverSent, x.late])).toEqual([
      ['node-1', 3, 15, 14, 1, 1, 2],
      ['node-2', 1, 4, 0, 4, 0, 0],
    ]);
    expect(r.receiving[1].latency_ms.p99).toBeGreaterThan(r.receiving[0].latency_ms.p99);
    const w = perNodeWindow([a, b], 'w', 1, 2);
    expect(w.receiving.map((x) => [x.node, x.latency_ms.count])).toEqual([
      ['node-1', 1],
      ['node-2', 1],
    ]);
  });
});
