/**
 * The console renderer: a pure function of a RunReport to text (autocannon `printResult.js`).
 * No colour codes unless asked for, so the output can be diffed, grepped and asserted on.
 */
import Table from 'cli-table3';
import type { Accounting, MetricSummary, RunReport, TargetResult } from '../model/run-report.js';
import { summarizeTargets } from '../model/evaluate.js';
import type { ProgressSnapshot } from '../model/progress.js';
import { perNodeSection } from './per-node-console.js';
import { sourceLine, sourceShort } from './seed-label.js';
import { repeatsSection } from './console-repeats.js';
import { describeReceivers } from '../scenarios/stalls.js';
import { formatInt, formatMs, formatNum, formatPercent, formatSeconds, formatValue } from './console-format.js';
export { formatInt, formatNum, formatPercent } from './console-format.js';

export interface ConsoleOptions {
  /** Wrap statuses and headings in ANSI colour codes. Default false. */
  color?: boolean;
}

/** The latency rows, in display order: metric name → row label. */
const LATENCY_ROWS: ReadonlyArray<readonly [string, string]> = [
  ['broadcast_latency_ms', 'all'],
  ['broadcast_latency_same_node_ms', 'same-node'],
  ['broadcast_latency_cross_node_ms', 'cross-node'],
  ['connect_time_ms', 'connect time'],
  ['reconnect_time_ms', 'reconnect time'],
  ['ping_rtt_ms', 'ping rtt'],
  ['queued_delivery_latency_ms', 'queued msgs'],
];

/** Events listed in full up to this many; beyond it the rest are counted. */
const MAX_EVENTS = 20;

const ANSI = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1 } as const;

type Paint = (s: string, ...codes: Array<keyof typeof ANSI>) => string;

function painter(color: boolean): Paint {
  if (!color) return (s) => s;
  return (s, ...codes) => (codes.length === 0 ? s : `\x1b[${codes.map((c) => ANSI[c]).join(';')}m${s}\x1b[0m`);
}

function table(head: string[], color: boolean, colAligns?: Array<'left' | 'right'>): Table.Table {
  return new Table({
    head,
    // cli-table3 colours heads red and borders grey by default; plain output must carry no codes.
    style: color ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true },
    ...(colAligns ? { colAligns } : {}),
  });
}

/** Natural order for node ids, so node-10 follows node-9. */
function byNatural(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function headerSection(r: RunReport): string[] {
  const connections = typeof r.options.connections === 'number' ? r.options.connections : r.counters.connections_peak;
  const parts = [
    `wsbench ${r.tool.version}`,
    `scenario ${r.scenario.name}`,
    `server ${r.topology.server}`,
    `${r.topology.nodes} node${r.topology.nodes === 1 ? '' : 's'}`,
    `lb ${r.topology.lb} (${r.topology.lbPolicy})`,
    ...(connections !== undefined ? [`${formatInt(connections)} connections`] : []),
    formatSeconds(r.durationMs),
    `run ${r.runId}`,
  ];
  const env = r.environment;
  const k6op = r.topology.k6Operator;
  // A k6-operator TestRun's runners: their machines are not known, the TestRun is.
  const where = k6op
    ? `k6-operator TestRun ${k6op.testRun} (${k6op.runners} runner${k6op.runners === 1 ? '' : 's'}${k6op.runnerImage ? `, ${k6op.runnerImage}` : ''})`
    : `node ${env.node} · ${env.platform}/${env.arch} · ${env.cpus} × ${env.cpuModel} · ${formatNum(env.totalMemBytes / 2 ** 30, 1)} GiB`;
  const lines = [
    parts.join(' · '),
    `${r.scenario.describe}`,
    `started ${r.startedAt} · finished ${r.finishedAt} · ${where} · redis ${r.topology.redis}${r.topology.url ? ` · target ${r.topology.url}` : ''}`,
  ];
  for (const o of r.topology.overrides) {
    lines.push(`override: ${o.setting} = ${o.value} (seed default ${o.seedDefault}) — ${o.why}`);
  }
  return lines;
}

function latencySection(r: RunReport, color: boolean): string[] {
  const rows = LATENCY_ROWS.filter(([name]) => r.metrics[name] !== undefined);
  if (rows.length === 0) return ['latency: no latency metrics in this report'];
  const t = table(['latency (ms)', 'count', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'], color, [
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
  ]);
  for (const [name, label] of rows) {
    const m: MetricSummary = r.metrics[name];
    t.push([label, formatInt(m.count), formatMs(m.p50), formatMs(m.p90), formatMs(m.p95), formatMs(m.p99), formatMs(m.p999), formatMs(m.max)]);
  }
  return [t.toString()];
}

function accountingSection(r: RunReport, color: boolean): string[] {
  const t = table(['deliveries', 'expected', 'received', 'lost', 'duplicated', 'reordered', 'delivered'], color, [
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
  ]);
  const rows: Array<[string, Accounting | null]> = [
    ['total', r.accounting],
    ['same-node', r.accounting.sameNode],
    ['cross-node', r.accounting.crossNode],
  ];
  for (const [label, a] of rows) {
    // Null: the node of some client is unknown, so is the split (never guessed).
    if (a === null) t.push([label, 'unknown', 'unknown', 'unknown', 'unknown', 'unknown', 'unknown']);
    if (!a) continue;
    t.push([label, formatInt(a.expected), formatInt(a.received), formatInt(a.lost), formatInt(a.duplicated), formatInt(a.reordered), formatPercent(a.deliveryRatio)]);
  }
  return [t.toString()];
}

/**
 * What the losses while connected mean. In general they are the cluster's failure. In redis-outage
 * (counters `lost_in_outage` / `lost_outside_outage`) the outage's own losses are what Redis pub/sub
 * promises (at-most-once), and only those outside it are a failure — judged by its target.
 */
function connectedLossLines(r: RunReport, lostConnected: number): string[] {
  const inOutage = r.counters.lost_in_outage;
  const outside = r.counters.lost_outside_outage;
  if (inOutage !== undefined && outside !== undefined) {
    const settle = typeof r.options.settle === 'number' ? r.options.settle : 2;
    return [
      `${formatInt(inOutage)} deliveries intended during the Redis outage (or within ${settle} s of its end) were lost: Redis pub/sub is at-most-once, so this is what the adapter promises, not a cluster failure`,
      outside > 0
        ? `CLUSTER FAILURE: ${formatInt(outside)} deliveries were lost outside the Redis outage while every client stayed connected`
        : 'no delivery was lost outside the Redis outage',
    ];
  }
  return [
    lostConnected > 0
      ? `CLUSTER FAILURE: ${formatInt(lostConnected)} deliveries were lost while both receiver and publisher stayed connected`
      : 'no delivery was lost while receiver and publisher were connected',
  ];
}

/** Lost deliveries by who was disconnected, per window figures and reconnection, for runs with faults. */
function faultSections(r: RunReport, color: boolean): string[] {
  const out: string[] = [];
  const l = r.accounting.losses;
  if (l) {
    const t = table(['lost by cause', 'never sent', 'receiver+publisher connected', 'receiver disconnected', 'publisher disconnected', 'late (received)'], color, ['left', 'right', 'right', 'right', 'right', 'right']);
    for (const [label, x] of [
      ['total', l],
      ['same-node', l.sameNode],
      ['cross-node', l.crossNode],
    ] as const) {
      if (x === null) {
        t.push([label, 'unknown', 'unknown', 'unknown', 'unknown', 'unknown']);
        continue;
      }
      t.push([label, x.neverSent === undefined ? '-' : formatInt(x.neverSent), formatInt(x.lostConnected), formatInt(x.lostDisconnected), formatInt(x.lostPublisherDown), formatInt(x.late)]);
    }
    out.push(t.toString());
    out.push(...connectedLossLines(r, l.lostConnected));
  }
  if (r.windows && Object.keys(r.windows).length) {
    const t = table(['window', 'from s', 'to s', 'p50 ms', 'p99 ms', 'max ms', 'expected', 'lost', 'same-node delivered', 'cross-node delivered'], color, [
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
    ]);
    for (const [name, w] of Object.entries(r.windows)) {
      const m = w.broadcast_latency_ms;
      const ms = (v: number) => (m.count > 0 ? formatMs(v) : '-');
      t.push([name, (w.startMs / 1000).toFixed(1), (w.endMs / 1000).toFixed(1), ms(m.p50), ms(m.p99), ms(m.max), formatInt(w.accounting.expected), formatInt(w.accounting.lost), w.sameNode === null ? 'unknown' : formatPercent(w.sameNode.deliveryRatio), w.crossNode === null ? 'unknown' : formatPercent(w.crossNode.deliveryRatio)]);
    }
    out.push(t.toString());
  }
  const rc = r.reconnection;
  if (rc) {
    out.push(
      `reconnection (${rc.policy}): ${formatInt(rc.disconnections)} disconnections, ${formatInt(rc.reconnected)} back, ${formatInt(rc.neverBack)} never back, ${formatInt(rc.attempts)} attempts (${formatInt(rc.failedAttempts)} failed)` +
        (rc.recovered === undefined
          ? ''
          : `; sessions recovered: ${formatInt(rc.recovered)} of ${formatInt(rc.reconnected)} (${formatPercent(rc.reconnected > 0 ? rc.recovered / rc.reconnected : 0)}), ${formatInt(rc.messagesReplayed ?? 0)} messages replayed (${r.topology.adapter ?? 'adapter unknown'})`),
    );
    if (rc.faults.length) {
      const sessions = rc.faults.some((f) => f.recovered !== undefined);
      const fromLb = rc.faults.some((f) => f.lbAcceptedAfterMs !== undefined);
      const lbCols = fromLb ? ['LB back ms', '99 % from LB ms', '100 % from LB ms'] : [];
      const t = table(['fault', 'backoff', 'clients', '99 % back ms', '100 % back ms', ...lbCols, 'accepts/100ms peak', 'mean', 'failed attempts', 'landed on', ...(sessions ? ['sessions recovered'] : [])], color, [
        'left',
        'left',
        'right',
        'right',
        'right',
        ...lbCols.map(() => 'right' as const),
        'right',
        'right',
        'right',
        'left',
        ...(sessions ? (['right'] as const) : []),
      ]);
      for (const f of rc.faults) {
        const landed = Object.entries(f.landedOn)
          .sort(([a], [b]) => byNatural(a, b))
          .map(([n, c]) => `${n} ${c}`)
          .join(', ');
        t.push([f.fault, f.policy, formatInt(f.affected), f.backWithin99PercentMs === null ? 'never' : formatMs(f.backWithin99PercentMs), f.backWithin100PercentMs === null ? 'never' : formatMs(f.backWithin100PercentMs), ...(fromLb ? [f.lbAcceptedAfterMs, f.backWithin99PercentFromReturnMs, f.backWithin100PercentFromReturnMs].map((v) => (v === null || v === undefined ? 'never' : formatMs(v))) : []), formatInt(f.acceptPer100msPeak), formatNum(f.acceptPer100msMean, 1), formatInt(f.failedAttempts), landed, ...(sessions ? [formatInt(f.recovered ?? 0)] : [])]);
      }
      out.push(t.toString());
    }
    for (const s of rc.storms ?? []) {
      const v = (x: number | null) => (x === null ? 'never' : `${formatMs(x)} ms`);
      out.push(
        `${s.policy}: ${s.storms} storm${s.storms === 1 ? '' : 's'}, all back (median, judged) ${v(s.fromDrop100PercentMs.median)} from the drop [${v(s.fromDrop100PercentMs.min)} – ${v(s.fromDrop100PercentMs.max)}], ${v(s.fromReturn100PercentMs.median)} from the LB's return [${v(s.fromReturn100PercentMs.min)} – ${v(s.fromReturn100PercentMs.max)}]`,
      );
    }
  }
  return out;
}

/** What each connection cost on every side (connection-capacity). */
function capacitySection(r: RunReport, color: boolean): string[] {
  const c = r.capacity;
  if (!c) return [];
  const kib = (b: number | null) => (b === null ? 'n/a' : `${formatNum(b / 1024, 2)} KiB`);
  const mib = (b: number | null) => (b === null ? 'n/a' : `${formatNum(b / 1048576, 1)} MiB`);
  const t = table(['side', 'connections', 'RSS delta', 'RSS / connection', 'heap / connection'], color, ['left', 'right', 'right', 'right', 'right']);
  for (const n of c.nodes) t.push([n.nodeId, formatInt(n.connections), mib(n.rssDeltaBytes), kib(n.rssPerConnectionBytes), kib(n.heapPerConnectionBytes)]);
  t.push(['nginx', formatInt(c.connected), mib(c.lb.rssDeltaBytes), kib(c.lb.perConnectionBytes), '']);
  t.push(['redis', formatInt(c.connected), mib(c.redis.rssDeltaBytes), kib(c.redis.perConnectionBytes), '']);
  for (const g of c.generator) t.push([`generator #${g.worker}`, formatInt(g.clients), mib(g.rssDeltaBytes), kib(g.perConnectionBytes), '']);
  const causes = Object.entries(c.failuresByCause);
  return [
    t.toString(),
    `connected ${formatInt(c.connected)} · failures: ${causes.length ? causes.map(([k, v]) => `${k} ${formatInt(v)}`).join(', ') : 'none'} · pings ok ${formatInt(c.pings.ok)}, failed ${formatInt(c.pings.failed)}`,
  ];
}

/** Every step of a capacity search, and the knee. */
function capacitySearchSection(r: RunReport, color: boolean): string[] {
  const c = r.capacitySearch;
  if (!c) return [];
  const t = table(['offered /s', 'achieved /s', 'p50 ms', 'p99 ms', 'samples', 'runs', 'lost', 'dup', 'reord', 'held'], color, ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left']);
  for (const s of c.steps) {
    // A retried step says what its first try saw, so a stall the retry overruled stays visible.
    const overruled = (s.discarded ?? []).filter((d) => d.broke.length).map((d) => `p99 ${formatMs(d.p99Ms)} ms`);
    const held = s.broke.length ? `no: ${s.broke.join(', ')}` : overruled.length ? `yes (retried; earlier: ${overruled.join(', ')})` : 'yes';
    t.push([formatInt(s.offeredPerSec), formatInt(s.achievedPerSec), formatMs(s.p50Ms), formatMs(s.p99Ms), s.samples === undefined ? '—' : formatInt(s.samples), formatInt(s.attempts ?? 1), formatInt(s.lost), formatInt(s.duplicated), formatInt(s.reordered), held]);
  }
  const k = c.knee;
  const rules = c.rules
    ? ` · warm-up ${c.rules.searchWarmupS} s${c.warmup ? ` (p99 ${formatMs(c.warmup.p99Ms)} ms, unjudged)` : ''}, p99 on >= ${formatInt(c.rules.minSamples)} samples, a broken step retried ${c.rules.stepRetries}×, ${c.rules.stepRepeats} run(s) per attempt`
    : '';
  return [
    `capacity search (a step holds while p99 <= ${c.limits.p99Ms} ms, loss <= ${c.limits.maxLost}, generator not saturated${rules}):`,
    t.toString(),
    k.firstBadPerSec === null
      ? `knee: not reached — every step up to ${k.lastGoodPerSec === null ? 'n/a' : formatInt(k.lastGoodPerSec)} deliveries/s held`
      : `knee: last held ${k.lastGoodPerSec === null ? 'none' : formatInt(k.lastGoodPerSec)} deliveries/s, first broke ${formatInt(k.firstBadPerSec)} deliveries/s`,
  ];
}

/** security-probes: every probe with expected vs observed, node health and the background latency. */
function probesSection(r: RunReport, color: boolean, paint: Paint): string[] {
  const p = r.probes;
  if (!p) return [];
  const t = new Table({
    head: ['status', 'probe', 'expected', 'observed'],
    style: color ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true },
    colWidths: [8, 30, 44, 60],
    wordWrap: true,
  });
  for (const x of p.results) {
    const status = x.status === 'pass' ? paint('PASS', 'green') : x.status === 'fail' ? paint('FAIL', 'red', 'bold') : x.status === 'not-applicable' ? paint('N/A', 'yellow') : paint('ERROR', 'yellow', 'bold');
    t.push([status, x.id, x.expected, x.observed]);
  }
  const failed = p.results.filter((x) => x.status === 'fail' || x.status === 'error');
  const na = p.results.filter((x) => x.status === 'not-applicable');
  const down = p.nodes.filter((n) => n.upBefore && (!n.upAfter || n.downScrapes > 0)).map((n) => n.nodeId);
  const b = p.background;
  const ms = (v: number | null) => (v === null ? '-' : formatMs(v));
  return [
    `security probes (${formatSeconds(p.endMs - p.startMs)}): ${p.results.length - failed.length - na.length} of ${p.results.length} passed${failed.length ? ` — failed: ${failed.map((x) => x.id).join(', ')}` : ''}${na.length ? ` — not applicable: ${na.map((x) => x.id).join(', ')}` : ''}`,
    t.toString(),
    p.nodesStayedUp
      ? `nodes stayed up: ${p.nodes.map((n) => n.nodeId).join(', ')} answered every scrape during the probes and /health after them`
      : paint(`NODES DOWN during the probes: ${down.length ? down.join(', ') : p.nodes.filter((n) => !n.upBefore).map((n) => `${n.nodeId} (down before)`).join(', ')}`, 'red', 'bold'),
    `other clients meanwhile (${formatInt(b.connections)} background connections): ${formatInt(b.deliveries)} deliveries, ${formatInt(b.lost)} lost, p50 ${ms(b.p50Ms)} ms, p99 ${ms(b.p99Ms)} ms, max ${ms(b.maxMs)} ms`,
  ];
}

function connectionsSection(r: RunReport, color: boolean): string[] {
  const entries = Object.entries(r.connectionsPerNode).sort(([a], [b]) => byNatural(a, b));
  if (entries.length === 0) return ['connections per node: none reported'];
  const total = entries.reduce((s, [, n]) => s + n, 0);
  const t = table(['node', 'connections', 'share'], color, ['left', 'right', 'right']);
  for (const [node, n] of entries) t.push([node, formatInt(n), total > 0 ? `${((n / total) * 100).toFixed(1)}%` : 'n/a']);
  t.push(['total', formatInt(total), total > 0 ? '100.0%' : 'n/a']);
  return [t.toString()];
}

function throughputLine(r: RunReport): string {
  const dps = r.counters.deliveries_per_sec;
  const mps = r.counters.messages_published_per_sec;
  const pub = r.counters.messages_published;
  const never = r.counters.messages_never_sent;
  return [
    `throughput: ${mps !== undefined ? `${formatNum(mps, 1)} messages/s published` : 'n/a'}`,
    `${dps !== undefined ? `${formatNum(dps, 1)} deliveries/s (first arrivals)` : 'n/a'}`,
    `${pub !== undefined ? formatInt(pub) : 'n/a'} messages published${never ? `, ${formatInt(never)} never sent` : ''}`,
  ].join(' · ');
}

function generatorSection(r: RunReport, color: boolean, paint: Paint): string[] {
  const out: string[] = [];
  const g = r.generator;
  if (g.workers.length > 0) {
    const burst = g.workers.some((w) => w.burstServiceMs !== undefined);
    const mem = g.workers.some((w) => w.rssAfterGcBytes !== undefined);
    const head = ['worker', 'clients', 'cpu mean %', 'cpu max %', 'lag p99 ms', 'lag max ms', ...(burst ? ['µs / delivery', 'burst', 'burst drain ms'] : []), ...(mem ? ['RSS after GC', 'memory / conn'] : [])];
    const t = table(head, color, ['left', ...head.slice(1).map(() => 'right' as const)]);
    for (const w of g.workers) {
      const row = [`#${w.worker}`, formatInt(w.clients), formatNum(w.cpuPercentMean, 1), formatNum(w.cpuPercentMax, 1), formatMs(w.eventLoopLagP99Ms), formatMs(w.eventLoopLagMaxMs)];
      if (burst) row.push(w.cpuPerDeliveryUs === undefined ? '-' : formatNum(w.cpuPerDeliveryUs, 1), w.burstSize === undefined ? '-' : formatNum(w.burstSize, 1), w.burstServiceMs === undefined ? '-' : formatMs(w.burstServiceMs));
      if (mem) {
        const m = w.memoryPerConnectionBytes;
        row.push(w.rssAfterGcBytes === undefined ? '-' : `${formatNum(w.rssAfterGcBytes / 1048576, 1)} MiB`, m === undefined ? '-' : m === null ? 'unknown' : `${formatNum(m / 1024, 2)} KiB`);
      }
      t.push(row);
    }
    out.push(`generator: ${g.workers.length} worker${g.workers.length === 1 ? '' : 's'}`, t.toString());
  } else {
    out.push('generator: no worker health reported');
  }
  const e = g.measurementError;
  if (e !== undefined) {
    out.push(`measurement error: wsbench's own receive path adds at most ≈ ${formatMs(e.p50Ms)} ms at the median, up to ${formatMs(e.maxMs)} ms, to the latencies above (worker #${e.worker}: burst × CPU per delivery, fixed costs included)`);
  }
  if (g.bottleneck) {
    out.push(paint('GENERATOR-BOUND: results not trustworthy — the load generator, not the cluster, was saturated', 'red', 'bold'));
  }
  for (const n of g.notes) out.push(`note: ${n}`);
  return out;
}

function eventsSection(r: RunReport): string[] {
  if (r.events.length === 0) return [];
  const out = ['events:'];
  for (const e of r.events.slice(0, MAX_EVENTS)) {
    const at = `+${(e.atMs / 1000).toFixed(1)}s`.padStart(9);
    const took = e.endMs !== undefined ? ` (${((e.endMs - e.atMs) / 1000).toFixed(2)} s)` : '';
    out.push(`  ${at}  ${e.type}${e.target ? ` ${e.target}` : ''}${e.detail ? ` ${e.detail}` : ''}${took}${e.outcome ? ` → ${e.outcome}` : ''}`);
  }
  if (r.events.length > MAX_EVENTS) out.push(`  … ${r.events.length - MAX_EVENTS} more in the JSON report`);
  return out;
}

/** The threshold of a target in short form: `p99 <= 50 ms`, `lost == 0`. */
export function formatTarget(t: Pick<TargetResult, 'metric' | 'op' | 'value' | 'unit' | 'override'>): string {
  const field = t.metric.split('.').pop() ?? t.metric;
  const unit = t.unit === 'deliveries' ? '' : t.unit;
  const base = `${field} ${t.op} ${formatValue(t.value, unit)}`;
  return t.override ? `${base} (seed: ${formatValue(t.override.seedValue, unit)})` : base;
}

function statusLabel(s: TargetResult['status'], paint: Paint): string {
  if (s === 'pass') return paint('PASS', 'green');
  if (s === 'fail') return paint('FAIL', 'red', 'bold');
  if (s === 'off') return paint('OFF', 'cyan');
  return paint('UNKNOWN', 'yellow', 'bold');
}

/** The stalls of the run (docs/stability.md): one line, and one per stall with what was busy. */
function stallsSection(r: RunReport): string[] {
  const st = r.stalls;
  if (!st) return [];
  const rule = `a second is a stall when its p99 > max(${st.rule.k} × typical ${formatMs(st.typicalP99Ms)} ms, typical + ${st.rule.floorMs} ms) = ${formatMs(st.thresholdMs)} ms`;
  if (st.stalls.length === 0) return [`stalls: none (${rule})`];
  return [
    `stalls: ${st.stalls.length} (${rule}):`,
    ...st.stalls.map(
      (x) =>
        `  +${x.fromS} s for ${x.seconds} s: p99 up to ${formatMs(x.peakP99Ms)} ms${describeReceivers(x) ? `; ${describeReceivers(x)}` : ''}; busiest: ${x.busiest.length ? x.busiest.map((b) => `${b.process} ${formatNum(b.cpuPercent, 0)} %`).join(', ') : 'no CPU readings'}`,
    ),
  ];
}

function targetsSection(r: RunReport, color: boolean, paint: Paint): string[] {
  if (r.targets.length === 0) return ['targets: none checked'];
  const t = table(['status', 'id', 'target', 'actual', 'source'], color, ['left', 'left', 'left', 'right', 'left']);
  for (const x of r.targets) {
    const unit = x.unit === 'deliveries' ? '' : x.unit;
    t.push([statusLabel(x.status, paint), x.id, formatTarget(x), x.actual === null ? 'not measured' : formatValue(x.actual, unit), sourceShort(x.source)]);
  }
  const quotes = r.targets.map((x) => `  ${x.id}: ${sourceLine(x.source)}${x.status === 'off' ? ' — switched off, not judged' : ''}`);
  // A failed latency target says whether stalls or a sustained breach failed it (docs/stability.md).
  const why = r.targets.filter((x) => x.explanation).map((x) => `  ${x.id} missed — ${x.explanation}`);
  return [t.toString(), ...why, ...quotes];
}

/** The final line: `verdict: PASS (5/5 targets met)`, `verdict: FAIL (1 of 5 targets missed: latency-p99)`. */
export function verdictLine(r: Pick<RunReport, 'verdict' | 'targets' | 'error'>, opts: ConsoleOptions = {}): string {
  const paint = painter(opts.color ?? false);
  const s = summarizeTargets(r.targets);
  const missed = s.missed.map((id) => (s.unknown.includes(id) ? `${id} (not measured)` : id)).join(', ');
  switch (r.verdict) {
    case 'pass':
      return `verdict: ${paint('PASS', 'green', 'bold')} (${s.total === 0 ? 'no targets checked' : `${s.met}/${s.total} targets met`})`;
    case 'fail':
      return `verdict: ${paint('FAIL', 'red', 'bold')} (${s.missed.length} of ${s.total} targets missed: ${missed})`;
    case 'error':
      return `verdict: ${paint('ERROR', 'red', 'bold')} (the harness failed${r.error ? `: ${r.error.code}` : ''}; targets not judged)`;
    case 'interrupted':
      return `verdict: ${paint('INTERRUPTED', 'yellow', 'bold')} (stopped early; partial results, ${s.met}/${s.total} targets met so far)`;
  }
}

/** The whole report as console text (no trailing newline). */
export function renderConsole(report: RunReport, opts: ConsoleOptions = {}): string {
  const color = opts.color ?? false;
  const paint = painter(color);
  const sections: string[][] = [
    headerSection(report),
    latencySection(report, color),
    accountingSection(report, color),
    faultSections(report, color),
    perNodeSection(report, color),
    capacitySection(report, color),
    capacitySearchSection(report, color),
    probesSection(report, color, paint),
    connectionsSection(report, color),
    [throughputLine(report)],
    generatorSection(report, color, paint),
    stallsSection(report),
    eventsSection(report),
    targetsSection(report, color, paint),
    repeatsSection(report, color),
  ];
  const rep = report.repeat;
  const over = rep ? ` — ${rep.judge === 'every' ? 'every one' : `the ${rep.judge}`} of ${rep.runs.length} runs` : '';
  const tail = [`${verdictLine(report, opts)}${over}`];
  if (report.error) {
    tail.push(`error ${report.error.code}: ${report.error.message}`);
    if (report.error.hint) tail.push(`hint: ${report.error.hint}`);
  }
  return [...sections.filter((s) => s.length > 0).map((s) => s.join('\n')), tail.join('\n')].join('\n\n');
}

/**
 * One line of live progress with fixed-width fields, so successive lines align:
 * `[measure   ]   12.0s  conn  9,998/10,000  sent     1,000/s  recv    99,800/s  p99    12.34 ms`.
 */
export function renderProgressLine(p: ProgressSnapshot): string {
  const totalStr = formatInt(p.total);
  const phase = p.phase.length > 10 ? p.phase.slice(0, 10) : p.phase.padEnd(10);
  return [
    `[${phase}]`,
    `${p.elapsedS.toFixed(1)}s`.padStart(8),
    ` conn ${formatInt(p.connected).padStart(totalStr.length)}/${totalStr}`,
    ` sent ${formatInt(p.sentPerS).padStart(9)}/s`,
    ` recv ${formatInt(p.receivedPerS).padStart(10)}/s`,
    ` p99 ${(p.p99Ms === null ? '-' : formatMs(p.p99Ms)).padStart(8)} ms`,
  ].join(' ');
}
