/**
 * k6's own per-sample output (`k6 run --out json=<file>`: one JSON object a line, a `Point` per
 * sample) turned into what a shard's partial report needs: an HDR histogram (µs) of every Trend
 * the report names (K6_TRENDS, submetrics by tag), and a per-second timeline with each second's
 * latency histogram. k6's summary gives percentiles only, which cannot be merged; the samples can.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Histogram } from 'hdr-histogram-js';
import { createCompactLatencyHistogram, createLatencyHistogram, encodeHistogram, HIST_HIGHEST_US, HIST_LOWEST_US } from '../../model/histogram.js';
import type { TimelinePoint } from '../../model/run-report.js';
import { K6_TRENDS } from './summary.js';

/** A report Trend: the k6 metric and, for a submetric, the tag it filters on. */
interface TrendSel {
  report: string;
  metric: string;
  tag?: [string, string];
}

/** `broadcast_latency_ms{path:cross}` → metric and tag filter. */
export function parseSubmetric(report: string, k6Name: string): TrendSel {
  const m = /^([^{]+)\{([^:}]+):([^}]*)\}$/.exec(k6Name);
  return m ? { report, metric: m[1], tag: [m[2], m[3]] } : { report, metric: k6Name };
}

export interface K6Samples {
  /** Report metric → histogram (µs) of its samples (only metrics that had samples). */
  histograms: Record<string, Histogram>;
  timeline: TimelinePoint[];
  timelineHistograms: Array<{ t: number; hdr: string }>;
  /** Lines that were not JSON (a truncated last line when k6 was killed). */
  badLines: number;
}

function record(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(Math.min(HIST_HIGHEST_US, Math.max(HIST_LOWEST_US, us)));
}

/**
 * Reads k6's NDJSON output. The timeline is second by second from `fromEpochMs` (publishing
 * starts), each second labelled as the Node engine labels it (scenarios/run-monitor.ts
 * summarizeTicks): its end, in seconds after `zeroEpochMs` (the measured window's start). `sent`
 * counts `messages_published`, `received` `deliveries_received`, `connections` the connections
 * welcomed so far, p99 and the second's histogram from `broadcast_latency_ms`.
 */
export async function readK6Samples(file: string, clock: { fromEpochMs: number; zeroEpochMs: number }): Promise<K6Samples> {
  const sels = Object.entries(K6_TRENDS).map(([report, k6]) => parseSubmetric(report, k6));
  const byMetric = new Map<string, TrendSel[]>();
  for (const s of sels) byMetric.set(s.metric, [...(byMetric.get(s.metric) ?? []), s]);
  const histograms: Record<string, Histogram> = {};
  const seconds = new Map<number, { sent: number; received: number; h: Histogram | null }>();
  const connectionsAt: Array<[number, number]> = [];
  let badLines = 0;
  const second = (atMs: number) => {
    const k = Math.floor((atMs - clock.fromEpochMs) / 1000);
    let s = seconds.get(k);
    if (!s) seconds.set(k, (s = { sent: 0, received: 0, h: null }));
    return s;
  };
  // A k6-operator runner's `--out json=<file>.gz` is gzipped (k6 compresses by the name).
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  input.setEncoding('utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    let o: { type?: unknown; metric?: unknown; data?: { time?: unknown; value?: unknown; tags?: Record<string, string> | null } };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      badLines++;
      continue;
    }
    if (o.type !== 'Point' || typeof o.metric !== 'string' || !o.data || typeof o.data.value !== 'number') continue;
    const value = o.data.value;
    const atMs = typeof o.data.time === 'string' ? Date.parse(o.data.time) : NaN;
    const tags = o.data.tags ?? {};
    for (const s of byMetric.get(o.metric) ?? []) {
      if (s.tag && tags[s.tag[0]] !== s.tag[1]) continue;
      record((histograms[s.report] ??= createLatencyHistogram()), value);
    }
    if (!Number.isFinite(atMs) || value === 0) continue;
    if (o.metric === 'connections') connectionsAt.push([atMs, value]);
    if (atMs < clock.fromEpochMs) continue;
    if (o.metric === 'messages_published') second(atMs).sent += value;
    else if (o.metric === 'deliveries_received') second(atMs).received += value;
    else if (o.metric === 'broadcast_latency_ms') {
      const s = second(atMs);
      record((s.h ??= createCompactLatencyHistogram()), value);
    }
  }
  connectionsAt.sort((a, b) => a[0] - b[0]);
  const timeline: TimelinePoint[] = [];
  const timelineHistograms: Array<{ t: number; hdr: string }> = [];
  let ci = 0;
  let connected = 0;
  for (const k of [...seconds.keys()].sort((a, b) => a - b)) {
    const endMs = clock.fromEpochMs + (k + 1) * 1000;
    while (ci < connectionsAt.length && connectionsAt[ci][0] < endMs) connected += connectionsAt[ci++][1];
    const s = seconds.get(k)!;
    const t = Math.round((endMs - clock.zeroEpochMs) / 1000);
    if (s.h && s.h.totalCount > 0) timelineHistograms.push({ t, hdr: encodeHistogram(s.h) });
    timeline.push({ t, sent: s.sent, received: s.received, connections: connected, p99Ms: s.h && s.h.totalCount > 0 ? Math.round(s.h.getValueAtPercentile(99)) / 1000 : null });
  }
  return { histograms, timeline, timelineHistograms, badLines };
}
