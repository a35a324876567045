/**
 * The HTML report's section for repeated runs (`--repeat N`): how many runs and which judgement,
 * each run's verdict and key values (every target on that run alone, the seconds over the latency
 * target), and the distribution of every judged value (median, min, max, spread). Pure function of
 * the report; empty for a single run.
 */
import type { Distribution, RepeatReport, RunReport, TargetResult } from '../model/run-report.js';
import { formatPercent } from './console.js';
import { escapeHtml, fmtValue, section, table } from './html-kit.js';

const JUDGEMENT: Record<RepeatReport['judge'], string> = {
  median: 'each target judged on the median of its value over the runs',
  worst: "each target judged on the worst run's value",
  every: 'every run must pass on its own',
};

function statusBadge(s: TargetResult['status'] | RunReport['verdict']): string {
  const cls = s === 'pass' ? 'pass' : s === 'fail' ? 'fail' : s === 'off' ? 'off' : 'unknown';
  return `<span class="status s-${cls}">${escapeHtml(s === 'unknown' ? 'NOT MEASURED' : s.toUpperCase())}</span>`;
}

/** A value of a report path in its unit: ratios as percentages, `*Ms` / latency paths in ms. */
function show(path: string, v: number | null, unit?: string): string {
  if (v === null) return 'not measured';
  if (unit === 'ratio' || path.endsWith('deliveryRatio')) return formatPercent(v);
  const u = unit ?? (path.startsWith('metrics.') && path.includes('_ms.') ? 'ms' : '');
  return fmtValue(Math.round(v * 100) / 100, u);
}

function runsTable(r: RunReport, rep: RepeatReport): string {
  const head = ['run', 'verdict', ...r.targets.map((t) => escapeHtml(t.id)), 'p99 latency', 'lost', 'seconds over the latency target'];
  const rows = rep.runs.map((x) => {
    const p99 = x.metrics.broadcast_latency_ms?.count ? x.metrics.broadcast_latency_ms.p99 : null;
    return [
      `${escapeHtml(`run ${x.run}`)}${x.run === rep.judgedRun ? ' <b>(shown above)</b>' : ''}`,
      statusBadge(x.verdict),
      ...r.targets.map((t) => {
        const mine = x.targets.find((y) => y.id === t.id);
        return mine ? `${escapeHtml(show(t.metric, mine.actual, t.unit))} ${statusBadge(mine.status)}` : '—';
      }),
      escapeHtml(show('metrics.broadcast_latency_ms.p99', p99, 'ms')),
      escapeHtml(x.accounting.expected > 0 ? fmtValue(x.accounting.lost) : '—'),
      escapeHtml(x.secondsOverTarget?.length ? `${x.secondsOverTarget.length} s (at +${x.secondsOverTarget.join(', +')} s)` : 'none') +
        (x.error ? `<div class="desc">${escapeHtml(`${x.error.code}: ${x.error.message}`)}</div>` : ''),
    ];
  });
  return table(head, rows, { cls: 'runs', num: r.targets.map((_, i) => i + 2) });
}

function distributionTable(r: RunReport, rep: RepeatReport): string {
  const judged = new Map(r.targets.map((t) => [t.metric, t]));
  // Judged values first (what decided the verdict), then the rest in the report's order.
  const paths = Object.keys(rep.distribution).sort((a, b) => Number(judged.has(b)) - Number(judged.has(a)));
  const rows = paths.map((path) => {
    const d: Distribution = rep.distribution[path];
    const t = judged.get(path);
    return [
      `<code>${escapeHtml(path)}</code>${t ? ` <span class="desc">judged: ${escapeHtml(t.id)}</span>` : ''}`,
      ...rep.runs.map((_, i) => escapeHtml(show(path, d.values[i] ?? null, t?.unit))),
      escapeHtml(show(path, d.median, t?.unit)),
      escapeHtml(show(path, d.min, t?.unit)),
      escapeHtml(show(path, d.max, t?.unit)),
      escapeHtml(show(path, d.spread, t?.unit)),
    ];
  });
  const head = ['value', ...rep.runs.map((x) => `run ${x.run}`), 'median', 'min', 'max', 'spread'];
  return table(head, rows, { cls: 'distribution', num: head.map((_, i) => i).slice(1) });
}

/** `<section id="runs">`: the runs and the distribution; '' for a single run. */
export function repeatsSection(r: RunReport): string {
  const rep = r.repeat;
  if (!rep) return '';
  const how = `<p id="runs-judgement"><b>${escapeHtml(`${rep.runs.length} of ${rep.count} runs`)}</b> on ${escapeHtml(rep.freshCluster ? 'a fresh cluster each' : 'one cluster')}; ${escapeHtml(JUDGEMENT[rep.judge])} (<code>--judge ${escapeHtml(rep.judge)}</code>). The figures in the other sections are run ${escapeHtml(rep.judgedRun ?? '—')}'s; each run's own files are in <code>run-&lt;k&gt;/</code> beside this report.</p>`;
  return section(
    'runs',
    'Runs',
    `${how}${runsTable(r, rep)}<h3>Distribution over the runs</h3><p class="help">Every judged value on each run, and its median, min, max and spread (max − min); a run that did not measure a value makes its median unknown.</p>${distributionTable(r, rep)}`,
  );
}
