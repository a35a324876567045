/**
 * The HTML report's sections that depend on the scenario or describe the setup: capacity search,
 * cost per connection, security probes, nodes, events and the configuration. Pure functions.
 */
import type { RunReport } from '../model/run-report.js';
import { formatNum } from './console.js';
import { perNodeSeries, type ChartSpec } from './chart-data.js';
import { chartDiv, escapeHtml, fmtAny, fmtValue, isObj, kvTable, objectsTable, section, table } from './html-kit.js';

/** `capacitySearch` (throughput --find-capacity): the knee chart, the limits and every step. */
export function capacitySearchSection(r: RunReport, chart: ChartSpec | null): string {
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
export function capacitySection(r: RunReport): string {
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
export function probesSection(r: RunReport): string {
  const p = r.probes;
  if (!p) return '';
  const rows = p.results.map((x) => [
    escapeHtml(x.id),
    escapeHtml(x.expected),
    escapeHtml(x.observed),
    `<span class="status s-${x.status === 'pass' ? 'pass' : x.status === 'not-applicable' ? 'unknown' : 'fail'}">${escapeHtml(x.status.toUpperCase())}</span>`,
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

export function nodesSection(r: RunReport, charts: ChartSpec[]): string {
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

export function eventsSection(r: RunReport): string {
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

export function configSection(r: RunReport): string {
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
