import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  distributionCharts,
  eventMarks,
  ninesLabel,
  ninesOfPercentile,
  percentileCurve,
  percentileOfNines,
  perNodeCharts,
  perNodeSeries,
  resample,
  timeCharts,
  timelineAnchorMs,
} from './chart-data.js';
import { createLatencyHistogram, summarizeUs } from '../model/histogram.js';
import { recordUs } from '../load/histogram-record.js';
import type { RunReport } from '../model/run-report.js';

const load = (name: string): RunReport => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

describe('the nines axis', () => {
  it('maps percentiles to nines and labels the ticks', () => {
    expect(ninesOfPercentile(90)).toBeCloseTo(1);
    expect(ninesOfPercentile(99.9)).toBeCloseTo(3);
    expect(percentileOfNines(2)).toBeCloseTo(99);
    expect([0, 1, 2, 3, 4, Math.log10(2)].map(ninesLabel)).toEqual(['0%', '90%', '99%', '99.9%', '99.99%', '50%']);
  });
});

describe('percentileCurve', () => {
  it('reads the HDR histogram: non-decreasing, from the minimum to the maximum, through p50 and p99', () => {
    const h = createLatencyHistogram();
    for (let i = 1; i <= 10_000; i++) recordUs(h, i * 10); // 10 µs … 100 ms, uniform
    const m = summarizeUs(h, 'ms');
    const curve = percentileCurve(m);
    expect(curve.length).toBeGreaterThan(40);
    for (let i = 1; i < curve.length; i++) {
      expect(curve[i][0]).toBeGreaterThan(curve[i - 1][0]);
      expect(curve[i][1]).toBeGreaterThanOrEqual(curve[i - 1][1]);
    }
    expect(curve[0][1]).toBeCloseTo(m.min, 2);
    expect(curve[curve.length - 1]).toEqual([4, m.max]); // log10(10,000 samples) nines
    const at = (x: number) => curve.reduce((best, p) => (Math.abs(p[0] - x) < Math.abs(best[0] - x) ? p : best));
    expect(at(2)[1]).toBeCloseTo(m.p99, 0);
  });

  it('falls back to the summary percentiles without a histogram, and is empty without samples', () => {
    const { hdr: _hdr, ...m } = load('report-default-run.json').metrics.broadcast_latency_ms;
    const curve = percentileCurve(m);
    expect(curve.map(([, y]) => y)).toEqual([m.min, m.p50, m.p90, m.p95, m.p99, m.p999, m.max]);
    expect(percentileCurve({ ...m, count: 0 })).toEqual([]);
  });

  it('throws on a malformed histogram; the chart leaves that metric out and says so', () => {
    const r = load('report-default-run.json');
    r.metrics.broadcast_latency_same_node_ms.hdr = 'not-a-histogram';
    expect(() => percentileCurve(r.metrics.broadcast_latency_same_node_ms)).toThrow();
    const [chart] = distributionCharts(r);
    expect(chart.series.map((s) => s.label)).toEqual(['all', 'cross-node']);
    expect(chart.note).toContain('broadcast_latency_same_node_ms');
  });
});

describe('distributionCharts', () => {
  it('draws broadcast latency (all, same-node, cross-node) and the other metrics apart, on one x grid each', () => {
    const charts = distributionCharts(load('report-default-run.json'));
    expect(charts.map((c) => c.id)).toEqual(['dist-broadcast', 'dist-other']);
    expect(charts[0].series.map((s) => s.label)).toEqual(['all', 'same-node', 'cross-node']);
    expect(charts[1].series.map((s) => s.label)).toEqual(['connect time']);
    for (const c of charts) for (const s of c.series) expect(s.values).toHaveLength(c.x.length);
  });

  it('leaves out metrics without samples', () => {
    const r = load('report-default-run.json');
    r.metrics.connect_time_ms.count = 0;
    expect(distributionCharts(r).map((c) => c.id)).toEqual(['dist-broadcast']);
  });
});

describe('timeline charts and events', () => {
  it('anchors events on the measure phase and turns phases into bands', () => {
    const r = load('report-default-run.json');
    const anchor = timelineAnchorMs(r)!;
    expect(anchor).toBe(r.events.find((e) => e.detail === 'measure')!.atMs);
    const { bands, lines } = eventMarks(r, -2, 22);
    expect(bands.map((b) => b.label)).toEqual(['publish', 'measure', 'drain']);
    expect(bands[1].from).toBe(0);
    expect(bands[1].to).toBeCloseTo(20, 2);
    // cluster and teardown events fall outside the timeline
    expect(lines).toEqual([]);
  });

  it('repeated runs: second 0 is the judged run\'s own measure phase (the events are every run\'s)', () => {
    const r = load('report-default-run.json');
    const measure = r.events.find((e) => e.detail === 'measure')!;
    r.events = [...r.events, { ...measure, atMs: measure.atMs + 30_000 }, { ...measure, atMs: measure.atMs + 60_000 }];
    r.repeat = { count: 3, judge: 'median', freshCluster: false, judgedRun: 3, runs: [], distribution: {} };
    expect(timelineAnchorMs(r)).toBe(measure.atMs + 60_000);
    r.repeat.judgedRun = 1;
    expect(timelineAnchorMs(r)).toBe(measure.atMs);
  });

  it('marks a short chaos action as a line and a long one as a band', () => {
    const r = load('sample-report-chaos.json');
    const { bands, lines } = eventMarks(r, -2, 22);
    expect(lines).toEqual([{ at: 8, label: 'kill-node node-2 SIGKILL', outcome: 'ok' }]);
    expect(bands.filter((b) => b.kind === 'fault')).toEqual([{ from: 11.5, to: 12.6, label: 'start-node node-2', kind: 'fault' }]);
  });

  it('places nothing without a measure phase', () => {
    const r = load('report-default-run.json');
    r.events = r.events.filter((e) => e.detail !== 'measure');
    expect(eventMarks(r, -2, 22)).toEqual({ bands: [], lines: [] });
  });

  it('charts latency and rates, and connections (per node when the report has nodeMetrics)', () => {
    const plain = timeCharts(load('report-default-run.json'));
    expect(plain.map((c) => c.id)).toEqual(['time-latency', 'time-connections']);
    expect(plain[1].series.map((s) => s.label)).toEqual(['total']);
    const chaos = timeCharts(load('sample-report-chaos.json'));
    expect(chaos[1].series.map((s) => s.label)).toEqual(['total (clients)', 'node-1', 'node-2', 'node-3']);
    // node-2 is down for t = 8…11: gaps, not its last value carried on
    const x = chaos[1].x;
    const node2 = chaos[1].series[2].values;
    expect(node2[x.indexOf(9)]).toBeNull();
    expect(node2[x.indexOf(7)]).toBe(416);
    // p99 from ~5 ms to 2.4 s: log axis, which leaves no value ≤ 0
    expect(chaos[0].axes[0].log).toBe(true);
    expect(plain[0].axes[0].log).toBeUndefined();
  });

  it('marks each stall as a band over its seconds on the latency chart only', () => {
    const r = load('report-default-run.json');
    const none = timeCharts(r)[0].bands.filter((b) => b.kind === 'stall');
    expect(none).toEqual([]);
    const stalled: RunReport = {
      ...r,
      stalls: { rule: { k: 4, floorMs: 25 }, typicalP99Ms: 10, thresholdMs: 40, seconds: [], cpuProcesses: [], stalls: [{ fromS: 8, seconds: 2, peakP99Ms: 278.4, busiest: [] }] },
    };
    const charts = timeCharts(stalled);
    expect(charts[0].bands.filter((b) => b.kind === 'stall')).toEqual([{ from: 8, to: 10, label: 'stall p99 278 ms', kind: 'stall' }]);
    expect(charts[1].bands.some((b) => b.kind === 'stall')).toBe(false);
  });

  it('puts the node scrapes (own clock, from the connect ramp on) and the timeline on one axis', () => {
    const r = load('report-generator-bound-run.json');
    const conn = timeCharts(r)[1];
    const scrapes = r.nodeMetrics!.map((p) => p.t);
    expect(conn.x).toEqual([...new Set([...r.timeline.map((p) => p.t), ...scrapes])].sort((a, b) => a - b));
    expect(conn.x[0]).toBe(scrapes[0]); // before the timeline starts
    const node1 = conn.series[1].values;
    expect(node1[conn.x.indexOf(scrapes[1])]).toBe(r.nodeMetrics![1].nodes[0].connections);
    // a failed scrape (up: false) is a gap
    const down = r.nodeMetrics!.find((p) => !p.nodes[0].up)!;
    expect(node1[conn.x.indexOf(down.t)]).toBeNull();
    expect(conn.bands.map((b) => b.label)).toEqual(['connect', 'join', 'publish', 'measure', 'drain', 'collected']);
  });

  it('resample holds a sample for at most 1.5 s and keeps nulls', () => {
    expect(resample([0, 1, 2], [5, null, 7], [-1, 0, 0.5, 1, 2, 3, 3.6])).toEqual([null, 5, 5, null, 7, 7, null]);
  });

  it('charts extra numeric per-second fields a scenario adds', () => {
    const r = load('report-default-run.json');
    for (const p of r.timeline) (p as unknown as Record<string, number>).reconnecting = 0;
    expect(timeCharts(r).map((c) => c.id)).toContain('time-other');
  });

  it('is empty without a timeline', () => {
    expect(timeCharts({ ...load('report-default-run.json'), timeline: [] })).toEqual([]);
  });
});

describe('perNodeSeries', () => {
  it('reads nodeMetrics as RunReport declares it, booleans as 1/0', () => {
    const p = perNodeSeries(load('sample-report-chaos.json'))!;
    expect(p.nodes).toEqual(['node-1', 'node-2', 'node-3']);
    expect(p.xKind).toBe('timeline');
    expect(p.fields.map((f) => f.field)).toEqual(['up', 'connections', 'rssBytes', 'heapUsedBytes', 'eventLoopLagMs', 'publishTotal']);
    const up = p.fields[0].values['node-2'];
    expect(up[p.x.indexOf(9)]).toBe(0);
    expect(up[p.x.indexOf(13)]).toBe(1);
  });

  it('reads other shapes: {node: [samples]}, [{node, samples}], and per-node maps in the timeline', () => {
    const base = load('report-default-run.json');
    const a = perNodeSeries({ ...base, nodeMetrics: { 'node-1': [{ t: 0, connections: 5 }], 'node-2': [{ t: 0, connections: 6 }] } } as unknown as RunReport)!;
    expect(a.nodes).toEqual(['node-1', 'node-2']);
    const b = perNodeSeries({ ...base, nodeMetrics: [{ node: 'n1', samples: [{ atMs: base.events.find((e) => e.detail === 'measure')!.atMs + 2000, rssBytes: 1 }] }] } as unknown as RunReport)!;
    expect(b.x).toEqual([2]);
    const tl = base.timeline.map((p) => ({ ...p, connectionsPerNode: { 'node-1': 1, 'node-2': 2 } }));
    const c = perNodeSeries({ ...base, timeline: tl } as RunReport)!;
    expect(c.fields[0].field).toBe('connections');
    expect(c.fields[0].values['node-2'][0]).toBe(2);
  });

  it('is null without per-node data, and garbage does not throw', () => {
    expect(perNodeSeries(load('report-default-run.json'))).toBeNull();
    for (const nodeMetrics of [42, 'x', [1, null, 'y'], { a: 1 }, [{ t: 'x', nodes: 3 }]]) {
      const r = { ...load('report-default-run.json'), nodeMetrics } as unknown as RunReport;
      expect(() => perNodeCharts(r)).not.toThrow();
    }
  });

  it('charts every per-node field but connections: bytes in MiB, counters as rates', () => {
    const charts = perNodeCharts(load('sample-report-chaos.json'));
    expect(charts.map((c) => c.title)).toEqual([
      'up per node',
      'rssBytes (MiB) per node',
      'heapUsedBytes (MiB) per node',
      'eventLoopLagMs per node',
      'publishTotal /s per node',
    ]);
    const rate = charts[4].series[0].values.filter((v) => v !== null);
    expect(new Set(rate)).toEqual(new Set([107]));
  });
});
