import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { escapeHtml, jsonForScript, renderHtml } from './html.js';
import type { ChartSpec } from './chart-data.js';
import { validateReport } from '../model/schema.js';
import type { RunReport } from '../model/run-report.js';

const load = (name: string): RunReport => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

const HOSTILE = `</script><script>alert(1)</script><img src=x onerror="alert(2)">&amp;'`;

/** The chart data embedded in the page. */
function embedded(html: string): { charts: ChartSpec[] } {
  const m = /<script type="application\/json" id="wsbench-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]);
}

function hostileReport(): RunReport {
  const r = load('sample-report-chaos.json');
  r.scenario.describe = HOSTILE;
  r.runId = HOSTILE;
  r.environment.hostname = HOSTILE;
  r.generator.notes.push(HOSTILE);
  r.options[HOSTILE] = HOSTILE;
  r.topology.versions[HOSTILE] = HOSTILE;
  r.events.push({ atMs: 100, type: HOSTILE, detail: HOSTILE });
  r.targets[0].source.quote = HOSTILE;
  r.targets[0].description = HOSTILE;
  r.connectionsPerNode[HOSTILE] = 1;
  r.counters[HOSTILE] = 1;
  for (const p of r.nodeMetrics!) p.nodes[0].nodeId = HOSTILE;
  return r;
}

/** A report with a `throughput --find-capacity` search: three steps, the third broke. */
function withCapacitySearch(r: RunReport): RunReport {
  const step = (offered: number, achieved: number, p99: number, lost: number, broke: string[]) => ({
    offeredPerSec: offered, achievedPerSec: achieved, p50Ms: p99 / 4, p99Ms: p99, lost, duplicated: 0, reordered: 0, generatorBound: false, broke,
  });
  return {
    ...r,
    capacitySearch: {
      limits: { p99Ms: 50, maxLost: 0 },
      steps: [step(10_000, 9_990, 6, 0, []), step(20_000, 19_950, 12, 0, []), step(40_000, 27_100, 2_400, 3_120, ['p99', 'lost'])],
      knee: { lastGoodPerSec: 20_000, firstBadPerSec: 40_000 },
    },
  };
}

describe('renderHtml', () => {
  it('is one self-contained document: inline uPlot, CSS and data, no external URL, nothing loaded', () => {
    const html = renderHtml(load('sample-report.json'));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('var uPlot=function'); // the library, inlined
    expect(html).toContain('.uplot'); // its stylesheet
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\s(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).toContain(`content="default-src 'none';`);
    const data = embedded(html);
    expect(data.charts.map((c) => c.id)).toEqual(['dist-broadcast', 'dist-other', 'time-latency', 'time-connections']);
    expect(data.charts[0].series.map((s) => s.label)).toEqual(['all', 'same-node', 'cross-node']);
  });

  it('in a real run report, the only URL is the text of an event (the cluster address), escaped', () => {
    const r = load('report-default-run.json');
    const html = renderHtml(r);
    const urls = html.match(/https?:\/\/[^\s<"]*/g) ?? [];
    expect(urls).toEqual([r.events.find((e) => e.detail?.startsWith('up at '))!.detail!.slice('up at '.length)]);
    expect(html).not.toMatch(/\s(src|href)\s*=/i);
  });

  it('puts the verdict and every target with its seed quote at the top, unknown as not measured', () => {
    const r = load('sample-report-chaos.json');
    const html = renderHtml(r);
    const targetsAt = html.indexOf('<section id="targets">');
    expect(html.indexOf('id="verdict">FAIL<')).toBeGreaterThan(-1);
    expect(html.indexOf('id="verdict">FAIL<')).toBeLessThan(targetsAt);
    expect(targetsAt).toBeLessThan(html.indexOf('<section id="latency">'));
    for (const t of r.targets) {
      expect(html).toContain(`<b>${t.id}</b>`);
      expect(html).toContain(`<blockquote>${escapeHtml(t.source.quote)}</blockquote>`);
    }
    // Seeds are named by number and title, not by their hashed file names.
    expect(html).toContain('<div class="seed">seed 004 · WebSocket Implementation for Real-Time Communication');
    expect(html).not.toMatch(/<div class="seed">\d{3}_[0-9a-f]{16}\.txt/);
    expect(html).toContain('NOT MEASURED');
    expect(html).toContain('<i>not measured</i>');
  });

  it('renders every section, the loss classes, windows, reconnection and per-node metrics when present', () => {
    const html = renderHtml(load('sample-report-chaos.json'));
    for (const id of ['targets', 'latency', 'over-time', 'accounting', 'reconnection', 'generator', 'nodes', 'events', 'config']) {
      expect(html).toContain(`<section id="${id}">`);
    }
    for (const col of ['lost while connected', 'lost while disconnected', 'late', 'during-kill-node · cross-node', '99 % back (ms)', 'rssBytes (MiB) per node']) {
      expect(html).toContain(col);
    }
    expect(embedded(html).charts.map((c) => c.id)).toEqual([
      'dist-broadcast',
      'dist-other',
      'time-latency',
      'time-connections',
      'node-0',
      'node-1',
      'node-2',
      'node-3',
      'node-4',
    ]);
    expect(html).toContain('Open connections per node');
  });

  it('renders the cost per connection and extra worker fields of connection-capacity runs', () => {
    const r = load('report-default-run.json') as RunReport & { capacity: unknown };
    r.capacity = {
      connected: 1240,
      failuresByCause: { http_502: 3 },
      pings: { ok: 2480, failed: 0 },
      nodes: [{ nodeId: 'node-1', connections: 416, rssDeltaBytes: 5 * 2 ** 20, heapDeltaBytes: null, rssPerConnectionBytes: 12_603, heapPerConnectionBytes: null }],
      lb: { rssDeltaBytes: 2048, perConnectionBytes: 1.7 },
      redis: { rssDeltaBytes: null, perConnectionBytes: null },
      generator: [{ worker: 0, clients: 620, rssDeltaBytes: -4096, perConnectionBytes: -6.6 }],
    };
    r.generator.workers[0].cpuPerDeliveryUs = 41.5;
    const html = renderHtml(r);
    expect(html).toContain('<section id="capacity">');
    for (const text of ['http_502: 3', '5.0 MiB', '12.3 KiB', '-4.0 KiB', 'RSS / connection', 'nginx', 'redis-server', 'cpu µs / delivery', '41.50']) expect(html).toContain(text);
    expect(validateReport(r)).toEqual([]);
  });

  it('renders the security probes: expected vs observed per probe and whether the nodes stayed up', () => {
    const r = load('report-security-probes-run.json') as RunReport;
    expect(r.probes).toBeDefined();
    const html = renderHtml(r);
    expect(html).toContain('<section id="probes">');
    for (const p of r.probes!.results) expect(html).toContain(escapeHtml(p.id));
    expect(html).toContain('nodes stayed up');
  });

  it('renders the capacity search: the knee chart and every step', () => {
    const r = withCapacitySearch(load('report-default-run.json'));
    const html = renderHtml(r);
    expect(validateReport(r)).toEqual([]);
    expect(html).toContain('<section id="capacity-search">');
    expect(html).toContain('last step that held: <b>20,000 deliveries/s</b> · first that broke: <b>40,000 deliveries/s</b>');
    expect(html.match(/status s-fail">p99, lost</g)).toHaveLength(1);
    const knee = embedded(html).charts.find((c) => c.id === 'chart-capacity-search')!;
    expect(knee.x).toEqual([10_000, 20_000, 40_000]);
    expect(knee.lines.map((l) => l.at)).toEqual([20_000, 40_000]);
    expect(knee.axes[1].log).toBe(true);
  });

  it('gives every element a unique id (a chart must not land in a section of the same name)', () => {
    const html = renderHtml(withCapacitySearch(load('sample-report-chaos.json')));
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('skips what a report does not have', () => {
    const html = renderHtml(load('report-default-run.json'));
    expect(html).not.toContain('<section id="reconnection">');
    expect(html).toContain('This report carries no per-node server metrics.');
    expect(html).not.toContain('By window');
    expect(html).not.toContain('<section id="capacity">');
    expect(html).not.toContain('<section id="capacity-search">');
  });

  it('renders an error report: the error with its hint, no charts, no targets', () => {
    const r: RunReport = {
      ...load('report-default-run.json'),
      metrics: {},
      timeline: [],
      targets: [],
      verdict: 'error',
      error: { code: 'WSB_NODE_NOT_READY', message: '2 of 3 nodes ready after 30000 ms', hint: 'raise --ready-timeout' },
    };
    const html = renderHtml(r);
    expect(html).toContain('id="verdict">ERROR<');
    expect(html).toContain('<b>error WSB_NODE_NOT_READY</b>: 2 of 3 nodes ready after 30000 ms<br>hint: raise --ready-timeout');
    expect(html).toContain('No target was judged (the run did not finish).');
    expect(embedded(html).charts).toEqual([]);
  });

  it('escapes every string from the report, in the markup and in the embedded data', () => {
    const r = hostileReport();
    const html = renderHtml(r);
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('alert(1)</script>');
    expect(html.match(/<script/g)).toHaveLength(3); // uPlot, the data, the drawing code
    expect(html).toContain(escapeHtml(HOSTILE));
    // The data survives intact for the browser (uPlot sets labels as text, not markup).
    const labels = embedded(html).charts.flatMap((c) => c.series.map((s) => s.label));
    expect(labels).toContain(HOSTILE);
  });

  it('escapeHtml and jsonForScript cover the characters that matter', () => {
    expect(escapeHtml(`<a href="x">'&`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;');
    const j = jsonForScript({ s: '</script>&\u2028' });
    expect(j).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(j)).toEqual({ s: '</script>&\u2028' });
  });
});
