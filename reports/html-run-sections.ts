/**
 * The HTML report's sections every run has: the verdict header, targets, latency, the timeline,
 * delivery accounting, per node, reconnection and the generator's health. Pure functions.
 */
import type { RunReport } from '../model/run-report.js';
import { formatInt, formatNum, formatPercent, formatTarget, verdictLine } from './console.js';
import { summarizeTargets } from '../model/evaluate.js';
import { perNodeTables } from './per-node-console.js';
import type { ChartSpec } from './chart-data.js';
import { seedLabel } from './seed-label.js';
import { STATUS_LABEL, chartDiv, escapeHtml, fmtAny, fmtValue, isObj, kvTable, label, section, table } from './html-kit.js';

export function header(r: RunReport): string {
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

export function targetsSection(r: RunReport): string {
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

export function latencySection(r: RunReport, charts: ChartSpec[]): string {
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

export function timeSection(r: RunReport, charts: ChartSpec[]): string {
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

export function accountingSection(r: RunReport): string {
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
export function perNodeHtml(r: RunReport): string {
  const ts = perNodeTables(r);
  if (!ts.length) return '';
  const body = ts.map((t) => table(t.head.map(escapeHtml), t.rows.map((row) => row.map(escapeHtml)), { num: t.head.slice(1, -1).map((_, i) => i + 1) })).join('');
  return section('per-node', 'By node', `<p class="help">Latency (measured window) and expected / lost / never-sent / late deliveries by the node the receivers sat on and by the node the publishers sent through.</p>${body}`);
}

/** `reconnection` (scenarios with faults): totals, and per fault how fast the clients came back. */
export function reconnectionSection(r: RunReport): string {
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

export function generatorSection(r: RunReport): string {
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
