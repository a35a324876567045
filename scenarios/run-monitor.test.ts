import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import type { WorkerTick } from '../load/ipc.js';
import { ownLatency, summarizeTicks, workerHealth, workerMemory } from './run-monitor.js';

const hdr = encodeHistogram(createLatencyHistogram());
const tick = (workerId: number, atS: number, connections: number, received = 10): WorkerTick => ({
  type: 'tick',
  workerId,
  atUs: atS * 1e6,
  sent: 1,
  received,
  connections,
  hdr,
  cpuPercent: 1,
  lagP99Ms: 1,
});

describe('summarizeTicks', () => {
  it('keeps a worker’s last connection count in a second where its tick is missing', () => {
    // Worker 1 ticks late at 2.99 s and then 4.01 s: second [3, 4) has no tick of it.
    const ticks = [tick(0, 1.5, 100), tick(1, 1.99, 50), tick(0, 2.5, 100), tick(1, 2.99, 50), tick(0, 3.5, 100), tick(1, 4.01, 50), tick(0, 4.5, 100)];
    const tl = summarizeTicks(ticks, 1e6, 1e6);
    expect(tl.map((p) => p.connections)).toEqual([150, 150, 150, 150]);
    expect(tl.reduce((a, p) => a + p.received, 0)).toBe(70);
  });
});

describe('ownLatency', () => {
  const w = (id: number, cpuPerDeliveryUs?: number, burstSize?: number) => ({ ...workerHealth(id, 10, [1], [1]), ...(cpuPerDeliveryUs !== undefined ? { cpuPerDeliveryUs, burstSize } : {}) });
  it('is the worst worker’s burst service: (B + 1) / 2 × c at the median, B × c at most', () => {
    expect(ownLatency([w(0, 10, 99), w(1, 20, 199)])).toEqual({ p50Ms: 2, maxMs: 3.98, worker: 1 });
    expect(ownLatency([w(0, 30, 9), w(1, 2, 19)])).toEqual({ p50Ms: 0.15, maxMs: 0.27, worker: 0 });
  });
  it('is null when no worker measured its CPU per delivery', () => {
    expect(ownLatency([w(0), w(1)])).toBeNull();
    expect(ownLatency([])).toBeNull();
  });
});

describe('workerMemory', () => {
  it('is RSS growth since before the first connection, per connection open now', () => {
    expect(workerMemory({ rssBytes: 70_000_000 }, { rssBytes: 117_100_000 }, 10_000)).toEqual({ rssAfterGcBytes: 117_100_000, memoryPerConnectionBytes: 4710 });
  });

  it('is unknown (null, never 0 or negative) when RSS did not grow or no connection is open', () => {
    expect(workerMemory({ rssBytes: 70_000_000 }, { rssBytes: 69_000_000 }, 100).memoryPerConnectionBytes).toBeNull();
    expect(workerMemory({ rssBytes: 70_000_000 }, { rssBytes: 70_000_000 }, 100).memoryPerConnectionBytes).toBeNull();
    expect(workerMemory({ rssBytes: 70_000_000 }, { rssBytes: 80_000_000 }, 0).memoryPerConnectionBytes).toBeNull();
  });
});
