/**
 * The HTML renderer: a pure function of a RunReport to one self-contained HTML file — CSS, the
 * uPlot charting library, the chart data and the script that draws them are all inline, so the
 * file opens offline, from a CI artifact, in any browser, and loads nothing from anywhere.
 * Everything taken from the report is escaped (it is user data: a hostname, a note, a node id can
 * hold markup).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RunReport, TargetResult } from '../model/run-report.js';
import { formatInt, formatNum, formatPercent, formatTarget, verdictLine } from './console.js';
import { summarizeTargets } from '../model/evaluate.js';
import { perNodeTables } from './per-node-console.js';
import { capacitySearchChart, distributionCharts, perNodeCharts, perNodeSeries, timeCharts, type ChartSpec } from './chart-data.js';
import { seedLabel } from './seed-label.js';

/** `&`, `<`, `>`, `"`, `'` as entities: safe in text and in double- or single-quoted attributes. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that is safe inside `<script type="application/json">`: `<`, `>`, `&` and the JS line
 * separators escaped as `\uXXXX`, so no string in it can close the script element.
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

interface Asset {
  js: string;
  css: string;
  version: string;
}

let uplot: Asset | undefined;

/**
 * uPlot's IIFE build and stylesheet, read from the installed package. The banner's repository URL
 * becomes plain text (the file must not carry a single external URL); a `</` that could end the
 * inline element is split.
 */
function uplotAsset(): Asset {
  if (uplot) return uplot;
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('uplot'));
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };
  const js = readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8')
    .replace(/https?:\/\/(github\.com\/leeoniya\/uPlot)/g, '$1')
    .replace(/<\/(script)/gi, '<\\/$1');
  const css = readFileSync(join(dist, 'uPlot.min.css'), 'utf8').replace(/<\/(style)/gi, '<\\/$1');
  uplot = { js, css, version: pkg.version };
  return uplot;
}

function fmtValue(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const s = Number.isInteger(n) ? formatInt(n) : formatNum(n, 2);
  return unit && unit !== 'deliveries' ? `${s} ${unit}` : s;
}

/** Any JSON value as short display text. */
function fmtAny(v: unknown): string {
  if (typeof v === 'number') return fmtValue(v);
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  return JSON.stringify(v);
}

/** A table: head cells and rows of cells, each already-escaped HTML. `num` marks right-aligned columns. */
function table(head: string[], rows: string[][], opts: { num?: number[]; cls?: string } = {}): string {
  const num = new Set(opts.num ?? []);
  const cell = (tag: 'th' | 'td', c: string, i: number) => `<${tag}${num.has(i) ? ' class="num"' : ''}>${c}</${tag}>`;
  return [
    `<div class="scroll"><table${opts.cls ? ` class="${opts.cls}"` : ''}>`,
    `<thead><tr>${head.map((h, i) => cell('th', h, i)).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('')}</tbody>`,
    '</table></div>',
  ].join('');
}

/** Readable column names for the camelCase fields of the report; others show as they are. */
const FIELD_LABELS: Record<string, string> = {
  deliveryRatio: 'delivered',
  lostConnected: 'lost while connected',
  lostDisconnected: 'lost while disconnected',
  lostPublisherDown: 'lost, publisher down',
  neverSent: 'never sent',
  neverBack: 'never back',
  failedAttempts: 'failed attempts',
  backWithin99PercentMs: '99 % back (ms)',
  backWithin100PercentMs: 'all back (ms)',
  acceptPer100msPeak: 'reconnects / 100 ms, peak',
  acceptPer100msMean: 'reconnects / 100 ms, mean',
  landedOn: 'landed on',
  cpuPerDeliveryUs: 'cpu µs / delivery',
  burstSize: 'burst size',
  burstServiceMs: 'burst service ms',
  nodeId: 'node',
  rssDeltaBytes: 'RSS growth',
  heapDeltaBytes: 'heap growth',
  rssPerConnectionBytes: 'RSS / connection',
  heapPerConnectionBytes: 'heap / connection',
  perConnectionBytes: 'per connection',
};

function label(field: string): string {
  return FIELD_LABELS[field] ?? field;
}

/** Key/value rows of an object (values of any type), sorted as given. */
function kvTable(entries: Array<[string, unknown]>): string {
  return table(
    ['', ''],
    entries.map(([k, v]) => [escapeHtml(k), escapeHtml(fmtAny(v))]),
    { cls: 'kv' },
  );
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function chartDiv(c: ChartSpec): string {
  return `<figure class="chart"><figcaption>${escapeHtml(c.title)}</figcaption><div class="plot" id="${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}"></div>${
    c.note ? `<p class="note">${escapeHtml(c.note)}</p>` : ''
  }</figure>`;
}

const STATUS_LABEL: Record<TargetResult['status'], string> = { pass: 'PASS', fail: 'FAIL', unknown: 'NOT MEASURED', off: 'OFF' };

function header(r: RunReport): string {
  const s = summarizeTargets(r.targets);
  const connections = typeof r.options.connections === 'number' ? r.options.connections : r.counters.connections_peak;
  const facts = [
    `scenario <b>${escapeHtml(r.scenario.name)}</b>`,
    `server ${escapeHtml(r.topology.server)}`,
    `${escapeHtml(r.topology.nodes)} node${r.topology.nodes === 1 ? '' : 's'}`,
    `lb ${escapeHtml(r.topology.lb)} (${escapeHtml(r.topology.lbPolicy)})`,
    ...(connections !== undefined ? [`${escapeHtml(formatInt(connections))} connections`] : []),
    `${escapeHtml((r.durationMs / 1000).toFixed(1))} s`,
  ];
  const tiles: Array<[string, string]> = [];
  const lat = r.metrics.broadcast_latency_ms;
  if (lat && lat.count > 0) tiles.push(['p99 latency', fmtValue(lat.p99, lat.unit)]);
  const cross = r.metrics.broadcast_latency_cross_node_ms;
  if (cross && cross.count > 0) tiles.push(['cross-node p99', fmtValue(cross.p99, cross.unit)]);
  if (r.counters.deliveries_per_sec !== undefined) tiles.push(['deliveries/s', fmtValue(r.counters.deliveries_per_sec)]);
  if (r.accounting.expected > 0) {
    tiles.push(['delivered', formatPercent(r.accounting.deliveryRatio)]);
    tiles.push(['lost / dup / reordered', `${formatInt(r.accounting.lost)} / ${formatInt(r.accounting.duplicated)} / ${formatInt(r.accounting.reordered)}`]);
  }
  tiles.push(['targets met', `${s.met} / ${s.total}`]);
  return [
    `<header class="verdict v-${escapeHtml(r.verdict)}">`,
    `<div class="badge" id="verdict">${escapeHtml(r.verdict.toUpperCase())}</div>`,
    '<div class="head">',
    `<h1>wsbench report · ${escapeHtml(r.scenario.name)}</h1>`,
    `<p class="verdict-line">${escapeHtml(verdictLine(r))}</p>`,
    `<p class="facts">${facts.join(' · ')}</p>`,
    `<p class="facts">run <code>${escapeHtml(r.runId)}</code> · started ${escapeHtml(r.startedAt)} · finished ${escapeHtml(r.finishedAt)}</p>`,
    `<p class="describe">${escapeHtml(r.scenario.describe)}</p>`,
    '</div></header>',
    `<div class="tiles">${tiles.map(([k, v]) => `<div class="tile"><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div></div>`).join('')}</div>`,
    r.error
      ? `<div class="alert error"><b>error ${escapeHtml(r.error.code)}</b>: ${escapeHtml(r.error.message)}${r.error.hint ? `<br>hint: ${escapeHtml(r.error.hint)}` : ''}</div>`
      : '',
    r.generator.bottleneck
      ? '<div class="alert error"><b>GENERATOR-BOUND</b>: the load generator, not the cluster, was saturated for most of the measured window — these results describe the generator.</div>'
      : '',
  ].join('');
}

function targetsSection(r: RunReport): string {
  if (r.targets.length === 0) {
    return section('targets', 'Targets', `<p>No target was judged${r.verdict === 'error' || r.verdict === 'interrupted' ? ' (the run did not finish)' : ''}.</p>`);
  }
  const rows = r.targets.map((t) => {
    const config = t.source.config !== undefined ? `<div class="seed">config: ${escapeHtml(t.source.config)}${t.status === 'off' ? ' (switched off)' : ''}</div>` : '';
    const seed = t.source.seed !== undefined ? `<div class="seed">${escapeHtml(seedLabel(t.source.seed))}${t.source.section ? ` · ${escapeHtml(t.source.section)}` : ''}</div><blockquote>${escapeHtml(t.source.quote ?? '')}</blockquote>` : '';
    const src = config + seed;
    return [
      `<span class="status s-${escapeHtml(t.status)}">${STATUS_LABEL[t.status] ?? escapeHtml(t.status)}</span>`,
      `<b>${escapeHtml(t.id)}</b><div class="desc">${escapeHtml(t.description)}</div>`,
      `<code>${escapeHtml(formatTarget(t))}</code>`,
      (t.actual === null ? '<i>not measured</i>' : escapeHtml(fmtValue(t.actual, t.unit))) + (t.explanation ? `<div class="desc">${escapeHtml(t.explanation)}</div>` : ''),
      src,
    ];
  });
  return section('targets', 'Targets', table(['status', 'target', 'threshold', 'actual', 'promised by (seed or config)'], rows, { num: [3], cls: 'targets' }));
}

function latencySection(r: RunReport, charts: ChartSpec[]): string {
  const names = Object.keys(r.metrics);
  const rows = names.map((n) => {
    const m = r.metrics[n];
    return [escapeHtml(n), escapeHtml(m.unit), ...[m.count, m.min, m.mean, m.p50, m.p90, m.p95, m.p99, m.p999, m.max].map((v) => escapeHtml(fmtValue(v)))];
  });
  const summary = names.length
    ? table(['metric', 'unit', 'count', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'], rows, { num: [2, 3, 4, 5, 6, 7, 8, 9, 10] })
    : '<p>No metric was recorded.</p>';
  const body = charts.length
    ? `<p class="help">Each curve is an HDR histogram read back from the report: latency (y) at every percentile (x, one step per "nine").</p>${charts.map(chartDiv).join('')}`
    : '';
  return section('latency', 'Latency distribution', body + summary);
}

function timeSection(r: RunReport, charts: ChartSpec[]): string {
  if (charts.length === 0) return section('over-time', 'Over time', '<p>No per-second timeline in this report.</p>');
  const anchored = charts.some((c) => c.bands.length > 0 || c.lines.length > 0);
  const help = anchored
    ? '<p class="help">Shaded bands are the run\'s phases; vertical lines mark chaos actions and other events.</p>'
    : '<p class="help">The events could not be placed on this axis (no <code>measure</code> phase event).</p>';
  return section('over-time', 'Over time', help + charts.map(chartDiv).join(''));
}

const ACCOUNTING_ORDER = ['expected', 'received', 'lost', 'duplicated', 'reordered', 'deliveryRatio'];

/** Numeric fields of accounting rows: the known six first, then any others any row has (late, lost while disconnected, …). */
function accountingColumns(rows: Array<Record<string, unknown>>): string[] {
  const extra = new Set<string>();
  for (const row of rows) for (const [k, v] of Object.entries(row)) if (typeof v === 'number' && !ACCOUNTING_ORDER.includes(k)) extra.add(k);
  return [...ACCOUNTING_ORDER, ...extra];
}

function accountingTable(rows: Array<[string, Record<string, unknown>]>): string {
  const cols = accountingColumns(rows.map(([, a]) => a));
  return table(
    ['deliveries', ...cols.map((c) => escapeHtml(label(c)))],
    rows.map(([label, a]) => [
      escapeHtml(label),
      ...cols.map((c) => {
        const v = a[c];
        if (typeof v !== 'number') return '—';
        return escapeHtml(c === 'deliveryRatio' ? formatPercent(v) : fmtValue(v));
      }),
    ]),
    { num: cols.map((_, i) => i + 1) },
  );
}

type Row = [string, Record<string, unknown>];

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Accounting rows: total, same-node and cross-node, each with its loss breakdown merged in (late,
 * lost while connected / disconnected / publisher down) when the report has `accounting.losses`,
 * then any other nested accounting object.
 */
function accountingRows(acc: Record<string, unknown>, prefix = ''): Row[] {
  const losses = isObj(acc.losses) ? acc.losses : {};
  const flat = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number'));
  const rows: Row[] = [[`${prefix}total`, { ...flat(acc), ...flat(losses) }]];
  for (const [k, label] of [['sameNode', 'same-node'], ['crossNode', 'cross-node']] as const) {
    if (isObj(acc[k])) rows.push([`${prefix}${label}`, { ...flat(acc[k]), ...(isObj(losses[k]) ? flat(losses[k]) : {}) }]);
    // Null: the node of some client was unknown, so is the split (never guessed).
    else if (acc[k] === null) rows.push([`${prefix}${label} (unknown)`, {}]);
  }
  for (const [k, v] of Object.entries(acc)) if (!['sameNode', 'crossNode', 'losses'].includes(k) && isObj(v)) rows.push([`${prefix}${k}`, flat(v)]);
  return rows;
}

function accountingSection(r: RunReport): string {
  let body = accountingTable(accountingRows(r.accounting as unknown as Record<string, unknown>));
  // Windows (before / during / after each fault), when the scenario reports them: name → {startMs,
  // endMs, broadcast_latency_ms, accounting, sameNode, crossNode}.
  const windows = (r as unknown as Record<string, unknown>).windows;
  if (isObj(windows) && Object.keys(windows).length > 0) {
    const rows: Row[] = [];
    const spans: string[][] = [];
    for (const [name, w] of Object.entries(windows)) {
      if (!isObj(w)) continue;
      const acc = isObj(w.accounting) ? { ...w.accounting, ...(isObj(w.sameNode) ? { sameNode: w.sameNode } : {}), ...(isObj(w.crossNode) ? { crossNode: w.crossNode } : {}) } : {};
      rows.push(...accountingRows(acc, `${name} · `));
      const lat = isObj(w.broadcast_latency_ms) ? w.broadcast_latency_ms : {};
      const n = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'number' ? (o[k] as number) : null);
      const s = (ms: number | null) => (ms === null ? '—' : `${formatNum(ms / 1000, 1)} s`);
      spans.push([escapeHtml(name), escapeHtml(s(n(w, 'startMs'))), escapeHtml(s(n(w, 'endMs'))), escapeHtml(fmtValue(n(lat, 'count'))), escapeHtml(fmtValue(n(lat, 'p50'), 'ms')), escapeHtml(fmtValue(n(lat, 'p99'), 'ms')), escapeHtml(fmtValue(n(lat, 'max'), 'ms'))]);
    }
    if (spans.length) body += `<h3>By window</h3><p class="help">Deliveries of messages intended inside each window (times since the measured phase began).</p>${table(['window', 'from', 'to', 'latency samples', 'p50', 'p99', 'max'], spans, { num: [1, 2, 3, 4, 5, 6] })}`;
    if (rows.length) body += accountingTable(rows);
  }
  const counters = Object.entries(r.counters);
  if (counters.length) body += `<h3>Counters</h3>${table(['counter', 'value'], counters.map(([k, v]) => [escapeHtml(k), escapeHtml(fmtValue(v))]), { num: [1] })}`;
  return section('accounting', 'Delivery accounting', body);
}

/** Per receiving / publishing node (and per window): which node's clients suffered. */
function perNodeHtml(r: RunReport): string {
  const ts = perNodeTables(r);
  if (!ts.length) return '';
  const body = ts.map((t) => table(t.head.map(escapeHtml), t.rows.map((row) => row.map(escapeHtml)), { num: t.head.slice(1, -1).map((_, i) => i + 1) })).join('');
  return section('per-node', 'By node', `<p class="help">Latency (measured window) and expected / lost / never-sent / late deliveries by the node the receivers sat on and by the node the publishers sent through.</p>${body}`);
}

/** `reconnection` (scenarios with faults): totals, and per fault how fast the clients came back. */
function reconnectionSection(r: RunReport): string {
  const rc = (r as unknown as Record<string, unknown>).reconnection;
  if (!isObj(rc)) return '';
  const totals = Object.entries(rc).filter(([, v]) => typeof v === 'number' || typeof v === 'string').map(([k, v]): [string, unknown] => [label(k), v]);
  let body = kvTable(totals);
  if (Array.isArray(rc.faults) && rc.faults.length) {
    const faults = rc.faults.filter(isObj);
    const cols = [...new Set(faults.flatMap((f) => Object.keys(f)))];
    body += table(
      cols.map((c) => escapeHtml(label(c))),
      faults.map((f) => cols.map((c) => escapeHtml(isObj(f[c]) ? Object.entries(f[c] as Record<string, unknown>).map(([k, v]) => `${k}: ${fmtAny(v)}`).join(', ') : fmtAny(f[c] ?? '—')))),
    );
  }
  if (Array.isArray(rc.storms) && rc.storms.length) {
    // reconnection-storm --storms N: each policy's spread; the median storm is judged.
    body += `<p class="help">Storms per policy: all clients back, median (judged) [min – max], from the drop and from the moment the load balancer accepted again.</p>`;
    const spread = (x: unknown) => (isObj(x) ? `${fmtAny(x.median ?? 'never')} [${fmtAny(x.min ?? '—')} – ${fmtAny(x.max ?? '—')}] ms` : '—');
    body += table(
      ['policy', 'storms', '100 % back from the drop', '100 % back from the LB\'s return'],
      rc.storms.filter(isObj).map((s) => [escapeHtml(fmtAny(s.policy)), escapeHtml(fmtAny(s.storms)), escapeHtml(spread(s.fromDrop100PercentMs)), escapeHtml(spread(s.fromReturn100PercentMs))]),
    );
  }
  return section('reconnection', 'Reconnection', body);
}

const WORKER_KNOWN = ['worker', 'clients', 'cpuPercentMean', 'cpuPercentMax', 'eventLoopLagP99Ms', 'eventLoopLagMaxMs'];

function generatorSection(r: RunReport): string {
  const g = r.generator;
  // Further numeric fields some scenarios add (CPU per delivery, burst size, …), as extra columns.
  const extra = [...new Set(g.workers.flatMap((w) => Object.keys(w).filter((k) => !WORKER_KNOWN.includes(k) && typeof (w as unknown as Record<string, unknown>)[k] === 'number')))];
  let body = g.workers.length
    ? table(
        ['worker', 'clients', 'cpu mean %', 'cpu max %', 'event-loop lag p99 ms', 'lag max ms', ...extra.map((k) => escapeHtml(label(k)))],
        g.workers.map((w) => [
          escapeHtml(`#${w.worker}`),
          escapeHtml(fmtValue(w.clients)),
          escapeHtml(formatNum(w.cpuPercentMean, 1)),
          escapeHtml(formatNum(w.cpuPercentMax, 1)),
          escapeHtml(formatNum(w.eventLoopLagP99Ms, 2)),
          escapeHtml(formatNum(w.eventLoopLagMaxMs, 2)),
          ...extra.map((k) => escapeHtml(fmtValue((w as unknown as Record<string, number | undefined>)[k]))),
        ]),
        { num: [1, 2, 3, 4, 5, ...extra.map((_, i) => i + 6)] },
      )
    : '<p>No worker health reported.</p>';
  body += `<p>${g.bottleneck ? '<b class="bad">GENERATOR-BOUND</b>: a worker was saturated for most of the measured window.' : 'The generator was not the bottleneck.'}</p>`;
  if (g.notes.length) body += `<ul class="notes">${g.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`;
  return section('generator', 'Load generator health', body);
}

/** Bytes as KiB / MiB, signed (a delta can be negative); `—` for null. */
function fmtBytes(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 2 ** 20) return `${formatNum(v / 2 ** 20, 1)} MiB`;
  if (a >= 1024) return `${formatNum(v / 1024, 1)} KiB`;
  return `${formatInt(v)} B`;
}

/** A table of objects: one row each, the union of their keys as columns; `*Bytes` fields as sizes. */
function objectsTable(rows: Array<Record<string, unknown>>): string {
  const cols = [...new Set(rows.flatMap((o) => Object.keys(o)))];
  return table(
    cols.map((c) => escapeHtml(label(c))),
    rows.map((o) => cols.map((c) => escapeHtml(/Bytes$/.test(c) ? fmtBytes(o[c]) : isObj(o[c]) ? JSON.stringify(o[c]) : fmtAny(o[c] ?? '—')))),
    { num: cols.map((c, i) => (rows.some((o) => typeof o[c] === 'number') ? i : -1)).filter((i) => i >= 0) },
  );
}

/** `capacitySearch` (throughput --find-capacity): the knee chart, the limits and every step. */
function capacitySearchSection(r: RunReport, chart: ChartSpec | null): string {
  const cs = r.capacitySearch;
  if (!cs || !Array.isArray(cs.steps)) return '';
  const knee = `last step that held: <b>${escapeHtml(cs.knee.lastGoodPerSec === null ? 'none' : `${fmtValue(cs.knee.lastGoodPerSec)} deliveries/s`)}</b> · first that broke: <b>${escapeHtml(cs.knee.firstBadPerSec === null ? 'none' : `${fmtValue(cs.knee.firstBadPerSec)} deliveries/s`)}</b> · a step holds while p99 ≤ ${escapeHtml(fmtValue(cs.limits.p99Ms, 'ms'))} and lost ≤ ${escapeHtml(fmtValue(cs.limits.maxLost))}`;
  const rows = cs.steps.map((st) => [
    escapeHtml(fmtValue(st.offeredPerSec)),
    escapeHtml(fmtValue(st.achievedPerSec)),
    escapeHtml(fmtValue(st.p50Ms, 'ms')),
    escapeHtml(fmtValue(st.p99Ms, 'ms')),
    escapeHtml(st.samples === undefined ? '—' : fmtValue(st.samples)),
    escapeHtml(fmtValue(st.attempts ?? 1)),
    escapeHtml(fmtValue(st.lost)),
    escapeHtml(fmtValue(st.duplicated)),
    escapeHtml(fmtValue(st.reordered)),
    st.generatorBound ? '<b class="bad">yes</b>' : 'no',
    st.broke.length ? `<span class="status s-fail">${escapeHtml(st.broke.join(', '))}</span>` : '<span class="status s-pass">held</span>',
  ]);
  return section(
    'capacity-search',
    'Capacity search',
    `<p>${knee}</p>${chart ? chartDiv(chart) : ''}${table(['offered/s', 'achieved/s', 'p50', 'p99', 'samples', 'runs', 'lost', 'duplicated', 'reordered', 'generator-bound', 'result'], rows, { num: [0, 1, 2, 3, 4, 5, 6, 7, 8] })}`,
  );
}

/** `capacity` (connection-capacity): what each connection costs on the nodes, nginx, redis and the generator. */
function capacitySection(r: RunReport): string {
  const cap = (r as unknown as Record<string, unknown>).capacity;
  if (!isObj(cap)) return '';
  const parts: string[] = [];
  const facts: Array<[string, unknown]> = [];
  if (typeof cap.connected === 'number') facts.push(['connections held', cap.connected]);
  if (isObj(cap.pings)) facts.push(['pings answered / failed', `${fmtAny(cap.pings.ok)} / ${fmtAny(cap.pings.failed)}`]);
  if (isObj(cap.failuresByCause)) {
    const f = Object.entries(cap.failuresByCause);
    facts.push(['failed connection attempts', f.length ? f.map(([k, v]) => `${k}: ${fmtAny(v)}`).join(', ') : 'none']);
  }
  if (facts.length) parts.push(kvTable(facts));
  if (Array.isArray(cap.nodes) && cap.nodes.length) parts.push(`<h3>Nodes</h3>${objectsTable(cap.nodes.filter(isObj))}`);
  const sides = (['lb', 'redis'] as const).filter((k) => isObj(cap[k])).map((k) => ({ side: k === 'lb' ? 'nginx' : 'redis-server', ...(cap[k] as Record<string, unknown>) }));
  if (sides.length) parts.push(`<h3>Load balancer and Redis</h3>${objectsTable(sides)}`);
  if (Array.isArray(cap.generator) && cap.generator.length) parts.push(`<h3>Load generator</h3>${objectsTable(cap.generator.filter(isObj))}`);
  return section('capacity', 'Cost per connection', `<p class="help">Memory growth while the connections were held, against before they were opened.</p>${parts.join('')}`);
}

/** `probes` (security-probes): expected vs observed per probe, the nodes' health, other clients meanwhile. */
function probesSection(r: RunReport): string {
  const p = r.probes;
  if (!p) return '';
  const rows = p.results.map((x) => [
    escapeHtml(x.id),
    escapeHtml(x.expected),
    escapeHtml(x.observed),
    `<span class="status s-${x.status === 'pass' ? 'pass' : 'fail'}">${escapeHtml(x.status.toUpperCase())}</span>`,
  ]);
  const bg = p.background;
  const facts: Array<[string, unknown]> = [
    ['nodes stayed up', p.nodesStayedUp ? 'yes' : 'NO'],
    ['other clients meanwhile', `${fmtAny(bg.connections)} connections, ${fmtAny(bg.deliveries)} deliveries, ${fmtAny(bg.lost)} lost, p50 ${fmtValue(bg.p50Ms, 'ms')}, p99 ${fmtValue(bg.p99Ms, 'ms')}, max ${fmtValue(bg.maxMs, 'ms')}`],
  ];
  return section('probes', 'Security probes', `${kvTable(facts)}${table(['probe', 'expected', 'observed', 'result'], rows)}`);
}

/** Per-node numbers from `nodeMetrics` when it is a static summary ({node: {field: n}} or [{node, field: n}]). */
function staticNodeMetrics(r: RunReport): Array<[string, Record<string, number>]> {
  const nm = (r as unknown as Record<string, unknown>).nodeMetrics;
  const numbers = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number' && Number.isFinite(v))) as Record<string, number>;
  const out: Array<[string, Record<string, number>]> = [];
  if (nm !== null && typeof nm === 'object' && !Array.isArray(nm)) {
    for (const [node, v] of Object.entries(nm as Record<string, unknown>)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const n = numbers(v as Record<string, unknown>);
        if (Object.keys(n).length) out.push([node, n]);
      }
    }
  } else if (Array.isArray(nm)) {
    for (const v of nm) {
      if (v === null || typeof v !== 'object') continue;
      const o = v as Record<string, unknown>;
      const id = ['node', 'nodeId', 'id', 'name'].map((k) => o[k]).find((x) => typeof x === 'string');
      const n = numbers(o);
      if (typeof id === 'string' && Object.keys(n).length) out.push([id, n]);
    }
  }
  return out;
}

function nodesSection(r: RunReport, charts: ChartSpec[]): string {
  const entries = Object.entries(r.connectionsPerNode).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const total = entries.reduce((s, [, n]) => s + n, 0);
  let body = entries.length
    ? table(
        ['node', 'connections', 'share'],
        [...entries.map(([n, c]) => [escapeHtml(n), escapeHtml(fmtValue(c)), total > 0 ? `${((c / total) * 100).toFixed(1)}%` : '—']), ['total', escapeHtml(fmtValue(total)), total > 0 ? '100.0%' : '—']],
        { num: [1, 2] },
      )
    : '<p>No connections per node reported.</p>';
  const stat = staticNodeMetrics(r);
  if (stat.length) {
    const fields = [...new Set(stat.flatMap(([, o]) => Object.keys(o)))];
    body += `<h3>Server metrics per node</h3>${table(['node', ...fields.map(escapeHtml)], stat.map(([n, o]) => [escapeHtml(n), ...fields.map((f) => escapeHtml(fmtValue(o[f])))]), { num: fields.map((_, i) => i + 1) })}`;
  }
  const series = perNodeSeries(r);
  if (series) {
    const rows: string[][] = [];
    for (const f of series.fields) {
      for (const n of series.nodes) {
        const vals = f.values[n].filter((v): v is number => v !== null);
        const bytes = /Bytes$/.test(f.field);
        const show = (v: number) => escapeHtml(bytes ? `${formatNum(v / 2 ** 20, 1)} MiB` : fmtValue(Math.round(v * 100) / 100));
        if (vals.length) rows.push([escapeHtml(n), escapeHtml(f.field), show(vals[vals.length - 1]), show(Math.min(...vals)), show(Math.max(...vals))]);
      }
    }
    body += `<h3>Server metrics per node over time</h3>${charts.map(chartDiv).join('')}${table(['node', 'metric', 'last', 'min', 'max'], rows, { num: [2, 3, 4] })}`;
  } else if (!stat.length) {
    body += '<p class="help">This report carries no per-node server metrics.</p>';
  }
  return section('nodes', 'Nodes', body);
}

function eventsSection(r: RunReport): string {
  if (r.events.length === 0) return section('events', 'Events', '<p>No events recorded.</p>');
  return section(
    'events',
    'Events',
    table(
      ['at', 'type', 'detail', 'outcome'],
      r.events.map((e) => [
        escapeHtml(`+${(e.atMs / 1000).toFixed(2)} s`),
        escapeHtml(e.type),
        escapeHtml(e.detail ?? ''),
        e.outcome ? `<span class="status s-${e.outcome === 'ok' ? 'pass' : e.outcome === 'fail' ? 'fail' : 'unknown'}">${escapeHtml(e.outcome)}</span>` : '',
      ]),
      { num: [0] },
    ),
  );
}

function configSection(r: RunReport): string {
  const t = r.topology;
  const topo: Array<[string, unknown]> = [
    ['driver', t.driver],
    ['server', t.server],
    ['nodes', t.nodes],
    ['load balancer', `${t.lb} (${t.lbPolicy})`],
    ['redis', t.redis],
  ];
  for (const [k, v] of Object.entries(t)) if (!['driver', 'server', 'nodes', 'lb', 'lbPolicy', 'redis', 'versions', 'overrides'].includes(k)) topo.push([k, v]);
  const env = Object.entries(r.environment).map(([k, v]): [string, unknown] => [k, k === 'totalMemBytes' && typeof v === 'number' ? `${formatNum(v / 2 ** 30, 1)} GiB` : v]);
  const overrides = t.overrides.length
    ? table(
        ['setting', 'value', 'seed default', 'why'],
        t.overrides.map((o) => [escapeHtml(o.setting), escapeHtml(fmtAny(o.value)), escapeHtml(fmtAny(o.seedDefault)), escapeHtml(o.why)]),
      )
    : '<p>The run used the seed defaults for every server setting.</p>';
  return section(
    'config',
    'Configuration',
    [
      '<div class="cols">',
      `<div><h3>Scenario options</h3>${kvTable(Object.entries(r.options))}</div>`,
      `<div><h3>Topology</h3>${kvTable(topo)}</div>`,
      `<div><h3>Versions</h3>${kvTable([['wsbench', r.tool.version], ...Object.entries(t.versions)])}</div>`,
      `<div><h3>Environment</h3>${kvTable(env)}</div>`,
      '</div>',
      `<h3>Server settings changed from the seed defaults</h3>${overrides}`,
    ].join(''),
  );
}

const CSS = `
:root{--pass:#1a7f37;--fail:#cf222e;--unk:#9a6700;--err:#8250df;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
main{max-width:1200px;margin:0 auto;padding:0 20px 40px}
header.verdict{display:flex;gap:20px;align-items:center;padding:18px 20px;margin:0 -20px;border-bottom:4px solid var(--muted);background:var(--bg)}
header.v-pass{border-color:var(--pass)}header.v-fail{border-color:var(--fail)}header.v-error{border-color:var(--err)}header.v-interrupted{border-color:var(--unk)}
.badge{font-weight:700;font-size:22px;color:#fff;padding:10px 16px;border-radius:6px;background:var(--muted);letter-spacing:.05em}
.v-pass .badge{background:var(--pass)}.v-fail .badge{background:var(--fail)}.v-error .badge{background:var(--err)}.v-interrupted .badge{background:var(--unk)}
h1{font-size:20px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:15px;margin:18px 0 8px}
.head p{margin:2px 0}.verdict-line{font-weight:600}.facts,.describe,.help,.note{color:var(--muted)}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:130px}.tile .k{color:var(--muted);font-size:12px}.tile .v{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums}
.alert{padding:10px 14px;border-radius:6px;margin:10px 0;border:1px solid}.alert.error{border-color:var(--fail);background:#ffebe9}
table{border-collapse:collapse;margin:6px 0 10px;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:5px 10px;text-align:left;vertical-align:top}th{background:var(--bg);font-weight:600}
td.num,th.num{text-align:right}
.scroll{overflow-x:auto}table.kv thead{display:none}table.kv td:first-child{color:var(--muted)}
table.targets td{max-width:420px}
.status{display:inline-block;font-weight:700;font-size:12px;padding:2px 8px;border-radius:10px;color:#fff;white-space:nowrap}
.s-pass{background:var(--pass)}.s-fail{background:var(--fail)}.s-unknown{background:var(--unk)}.s-off{background:#888}
.desc,.seed{color:var(--muted);font-size:12px}
blockquote{margin:4px 0 0;padding:2px 10px;border-left:3px solid var(--line);font-style:italic}
.bad{color:var(--fail)}
figure.chart{margin:10px 0 18px}figcaption{font-weight:600;margin-bottom:4px}
.plot{min-height:40px}.plot .chart-error{color:var(--fail)}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:0 24px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;background:var(--bg);padding:1px 4px;border-radius:4px}
footer{color:var(--muted);font-size:12px;margin-top:30px}
`;

/**
 * The browser side: draws every chart in the embedded data with uPlot. Chart failures are shown in
 * place and counted on `<body data-charts-rendered data-chart-errors>` (what the headless-browser
 * check reads).
 */
const CLIENT_JS = `
(function(){
  var data = JSON.parse(document.getElementById('wsbench-data').textContent);
  var COLORS = ['#0969da','#1a7f37','#cf222e','#8250df','#bf8700','#1b7c83','#e16f24','#6e7781','#d63384','#57606a'];
  var PHASE = ['rgba(9,105,218,0.06)','rgba(130,80,223,0.07)'];
  var rendered = 0, errors = [];
  function ninesLabel(x){ var p = 100*(1-Math.pow(10,-x)); var d = Math.max(0, Math.ceil(x-1e-9)-2); return (+p.toFixed(d)) + '%'; }
  function compact(v){ if (v == null) return ''; var a = Math.abs(v); if (a >= 1e9) return +(v/1e9).toFixed(1) + 'G'; if (a >= 1e6) return +(v/1e6).toFixed(1) + 'M'; if (a >= 1e4) return +(v/1e3).toFixed(1) + 'k'; return String(+v.toFixed(3)); }
  function num(v){ if (v == null) return '--'; var a = Math.abs(v); return a >= 1000 ? Math.round(v).toLocaleString('en-US') : a >= 10 ? v.toFixed(1) : v.toFixed(2); }
  function marks(spec){
    return { hooks: { drawClear: [function(u){
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, dpr = devicePixelRatio || 1;
      ctx.save();
      ctx.font = (11*dpr) + 'px system-ui,sans-serif';
      spec.bands.forEach(function(b, i){
        var x0 = u.valToPos(b.from,'x',true), x1 = u.valToPos(b.to,'x',true);
        ctx.fillStyle = b.kind === 'fault' ? 'rgba(207,34,46,0.13)' : b.kind === 'stall' ? 'rgba(191,135,0,0.22)' : PHASE[i % 2];
        ctx.fillRect(x0, top, x1 - x0, h);
        ctx.fillStyle = b.kind === 'fault' ? '#cf222e' : b.kind === 'stall' ? '#9a6700' : '#57606a';
        ctx.fillText(b.label, x0 + 3*dpr, top + 12*dpr);
      });
      ctx.restore();
    }], draw: [function(u){
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, dpr = devicePixelRatio || 1;
      ctx.save();
      ctx.font = (11*dpr) + 'px system-ui,sans-serif';
      spec.lines.forEach(function(l){
        var x = u.valToPos(l.at,'x',true);
        ctx.strokeStyle = l.outcome === 'fail' ? '#cf222e' : l.outcome === 'unknown' ? '#9a6700' : '#bf3989';
        ctx.lineWidth = 2*dpr; ctx.setLineDash([6*dpr,4*dpr]);
        ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
        var text = l.label + (l.outcome ? ' (' + l.outcome + ')' : '');
        // Near the right edge the label goes on the line's left.
        var right = x + 3*dpr + ctx.measureText(text).width > u.bbox.left + u.bbox.width;
        ctx.textAlign = right ? 'right' : 'left';
        ctx.fillStyle = ctx.strokeStyle; ctx.fillText(text, right ? x - 3*dpr : x + 3*dpr, top + 26*dpr);
      });
      ctx.restore();
    }] } };
  }
  function build(spec, el){
    var width = Math.max(320, el.clientWidth || 900);
    var series = [{ label: spec.xKind === 'nines' ? 'percentile' : spec.xKind === 'seconds' ? 's' : spec.xLabel, value: function(u, v){ return v == null ? '--' : spec.xKind === 'nines' ? ninesLabel(v) : spec.xKind === 'seconds' ? v + ' s' : num(v); } }];
    spec.series.forEach(function(s, i){
      series.push({ label: s.label, scale: s.scale, stroke: COLORS[i % COLORS.length], width: 2, dash: s.dash ? [6,4] : undefined,
        spanGaps: spec.xKind === 'nines', points: { show: spec.x.length < 60 }, value: function(u, v){ return num(v); } });
    });
    var axes = [{ label: spec.xLabel }];
    if (spec.xKind === 'nines') {
      axes[0].splits = function(u){ var out = [], max = u.scales.x.max; for (var k = 0; k <= Math.floor(max + 1e-9); k++) out.push(k); if (max > 0.3) out.splice(1, 0, Math.log10(2)); return out; };
      axes[0].values = function(u, splits){ return splits.map(ninesLabel); };
    }
    spec.axes.forEach(function(a){
      var ax = { scale: a.scale, label: a.label, side: a.side === 'right' ? 1 : 3, grid: { show: a.side !== 'right' }, size: 60,
        values: function(u, splits){ return splits.map(compact); } };
      // Log axes: one tick per power of ten (uPlot's default marks every 1..9 of each decade).
      if (a.log) ax.splits = function(u, i, min, max){ var out = []; for (var e = Math.floor(Math.log10(min)); Math.pow(10, e) <= max * 1.0001; e++) if (Math.pow(10, e) >= min * 0.9999) out.push(Math.pow(10, e)); return out; };
      axes.push(ax);
    });
    var scales = { x: { time: false } };
    spec.axes.forEach(function(a){ scales[a.scale] = a.log ? { distr: 3 } : { range: function(u, min, max){ return [Math.min(0, min), max > 0 ? max * 1.15 : 1]; } }; });
    var opts = { width: width, height: 300, scales: scales, series: series, axes: axes, plugins: [marks(spec)], cursor: { drag: { x: true, y: false } }, legend: { live: true } };
    var d = [spec.x].concat(spec.series.map(function(s){ return s.values; }));
    return new uPlot(opts, d, el);
  }
  var plots = [];
  data.charts.forEach(function(spec){
    var el = document.getElementById(spec.id);
    if (!el) return;
    if (!spec.x.length) return;
    try { plots.push([build(spec, el), el]); rendered++; }
    catch (e) { errors.push(spec.id + ': ' + e.message); console.error('wsbench: chart ' + spec.id + ' failed', e); var p = document.createElement('p'); p.className = 'chart-error'; p.textContent = 'chart failed: ' + e.message; el.appendChild(p); }
  });
  document.body.setAttribute('data-charts-rendered', String(rendered));
  document.body.setAttribute('data-chart-errors', String(errors.length));
  window.addEventListener('resize', function(){ plots.forEach(function(p){ p[0].setSize({ width: Math.max(320, p[1].clientWidth), height: 300 }); }); });
})();
`;

/**
 * The whole report as one self-contained HTML document: verdict and targets (with the seed
 * sentence each comes from) first, then latency distributions (HDR percentile curves), the
 * per-second timeline with events, delivery accounting, generator health, nodes, events and the
 * run's configuration.
 */
export function renderHtml(report: RunReport): string {
  const asset = uplotAsset();
  const dist = distributionCharts(report);
  const time = timeCharts(report);
  const nodes = perNodeCharts(report);
  const knee = capacitySearchChart(report);
  const charts = [...dist, ...time, ...(knee ? [knee] : []), ...nodes];
  const title = `wsbench ${report.verdict.toUpperCase()} · ${report.scenario.name} · ${report.runId}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing may load from elsewhere: the file is viewed offline and from CI artifacts.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    `<meta name="generator" content="wsbench ${escapeHtml(report.tool.version)}">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${asset.css}</style>`,
    `<style>${CSS}</style>`,
    '</head><body><main>',
    header(report),
    targetsSection(report),
    latencySection(report, dist),
    timeSection(report, time),
    accountingSection(report),
    perNodeHtml(report),
    reconnectionSection(report),
    capacitySearchSection(report, knee),
    capacitySection(report),
    probesSection(report),
    generatorSection(report),
    nodesSection(report, nodes),
    eventsSection(report),
    configSection(report),
    `<footer>Generated by wsbench ${escapeHtml(report.tool.version)} from report schemaVersion ${escapeHtml(report.schemaVersion)}. Charts: uPlot ${escapeHtml(asset.version)} (MIT, Leon Sorokin), inlined.</footer>`,
    '</main>',
    `<script>${asset.js}</script>`,
    `<script type="application/json" id="wsbench-data">${jsonForScript({ charts })}</script>`,
    `<script>${CLIENT_JS}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
