import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSubmetric, readK6Samples } from './samples.js';

const point = (metric: string, atMs: number, value: number, tags: Record<string, string> = {}) =>
  JSON.stringify({ metric, type: 'Point', data: { time: new Date(atMs).toISOString(), value, tags: { scenario: 'wsbench', ...tags } } });

describe("k6's per-sample output → HDR histograms and a timeline", () => {
  it('parses a submetric name into metric and tag filter', () => {
    expect(parseSubmetric('x', 'broadcast_latency_ms{path:cross}')).toEqual({ report: 'x', metric: 'broadcast_latency_ms', tag: ['path', 'cross'] });
    expect(parseSubmetric('y', 'connect_time_ms')).toEqual({ report: 'y', metric: 'connect_time_ms' });
  });

  it('counts every latency sample once per report metric it belongs to, and buckets seconds from the publish start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-k6-samples-'));
    const file = join(dir, 'samples.ndjson');
    const from = Date.parse('2026-12-07T00:00:10.000Z');
    const lines = [
      JSON.stringify({ type: 'Metric', data: { name: 'broadcast_latency_ms', type: 'trend', contains: 'time' }, metric: 'broadcast_latency_ms' }),
      point('connections', from - 2000, 1, { room: 'room-0' }),
      point('connections', from - 1500, 1, { room: 'room-2' }),
      point('connections', from - 1500, 0),
      point('connect_time_ms', from - 2000, 4),
      point('connect_time_ms', from - 1500, 6),
      point('messages_published', from + 100, 1),
      point('deliveries_received', from + 200, 1, { path: 'same' }),
      point('broadcast_latency_ms', from + 200, 3, { path: 'same' }),
      point('deliveries_received', from + 1200, 1, { path: 'cross' }),
      point('broadcast_latency_ms', from + 1200, 40, { path: 'cross' }),
      point('broadcast_latency_ms', from + 1300, 0, { path: 'cross' }),
      '{"metric":"broadcast_latency_ms","type":"Po', // a line cut short by a kill
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const s = await readK6Samples(file, { fromEpochMs: from, zeroEpochMs: from + 1000 });
    expect(s.badLines).toBe(1);
    expect(s.histograms.broadcast_latency_ms.totalCount).toBe(3);
    expect(s.histograms.broadcast_latency_same_node_ms.totalCount).toBe(1);
    expect(s.histograms.broadcast_latency_cross_node_ms.totalCount).toBe(2);
    expect(s.histograms.connect_time_ms.totalCount).toBe(2);
    expect(s.histograms.reconnect_time_ms).toBeUndefined();
    expect(Math.round(s.histograms.broadcast_latency_cross_node_ms.maxValue / 1000)).toBe(40);
    expect(s.timeline.map((p) => [p.t, p.sent, p.received, p.connections])).toEqual([
      [0, 1, 1, 2],
      [1, 0, 1, 2],
    ]);
    expect(s.timelineHistograms.map((h) => h.t)).toEqual([0, 1]);
  });

  it("reads k6's real --out json output (fixtures from k6 v0.48)", async () => {
    // A plain k6 WebSocket test: k6's own metrics only (ws_connecting, ws_sessions…), none of wsbench's.
    const s = await readK6Samples(join(process.cwd(), 'fixtures', 'k6', 'experimental-pass.out-json.sample.ndjson'), { fromEpochMs: 0, zeroEpochMs: 0 });
    expect(s.badLines).toBe(0);
    expect(s.histograms).toEqual({});
    expect(s.timeline).toEqual([]);
  });
});
