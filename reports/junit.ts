/**
 * The JUnit XML renderer: a pure function of a RunReport, for CI systems that show test results
 * (GitHub, GitLab, Jenkins, …). One `<testcase>` per target — classname the scenario, name the
 * target id and what it checks. A failed target is a `<failure>` with actual vs expected and the
 * seed sentence it comes from; a target that could not be measured is a `<failure>` "not
 * measured" (nothing passes silently); a run that errored or was interrupted adds an `<error>`.
 * Repeated runs (`--repeat N`): still one testcase per target, judged on the distribution, with
 * each run's value, the judgement and the median / min / max / spread in its output.
 */
import type { RepeatJudge, RepeatReport, RunReport, TargetResult } from '../model/run-report.js';
import { formatTarget, verdictLine } from './console.js';
import { seedLabel } from './seed-label.js';

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Text safe in XML content and in double-quoted attributes: `& < > " '` as entities, characters
 * XML 1.0 does not allow (most C0 controls, lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD.
 */
export function escapeXml(v: unknown): string {
  return String(v)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
}

function fmt(n: number | null, unit: string): string {
  if (n === null) return 'not measured';
  return unit && unit !== 'deliveries' ? `${n} ${unit}` : String(n);
}

function sourceText(t: TargetResult): string {
  const s = t.source;
  const seed = s.seed !== undefined ? `${seedLabel(s.seed)}${s.section ? ` (${s.section})` : ''}: "${s.quote ?? ''}"` : '';
  return s.config !== undefined ? `config ${s.config}${seed ? `; seed ${seed}` : ''}` : seed;
}

const JUDGED: Record<RepeatJudge, string> = { median: 'the median over the runs', worst: "the worst run's value", every: 'every run (each must pass)' };

/** Repeated runs (`--repeat N`): how the target was judged, each run's value and the distribution. */
function repeatDetail(t: TargetResult, rep: RepeatReport | undefined): string[] {
  if (!rep) return [];
  const d = rep.distribution[t.metric];
  const status = (s: string) => (s === 'unknown' ? 'NOT MEASURED' : s.toUpperCase());
  return [
    `judged on: ${JUDGED[rep.judge]} (${rep.runs.length} of ${rep.count} runs on ${rep.freshCluster ? 'a fresh cluster each' : 'one cluster'})`,
    ...rep.runs.map((x) => {
      const mine = x.targets.find((y) => y.id === t.id);
      const over = x.secondsOverTarget?.length ? `; ${x.secondsOverTarget.length} s over the latency target (at +${x.secondsOverTarget.join(', +')} s)` : '';
      return `run ${x.run}: ${mine ? `${fmt(mine.actual, t.unit)} ${status(mine.status)}` : 'not judged'} (run verdict ${status(x.verdict)}${over})`;
    }),
    ...(d ? [`distribution: median ${fmt(d.median, t.unit)}, min ${fmt(d.min, t.unit)}, max ${fmt(d.max, t.unit)}, spread ${fmt(d.spread, t.unit)}`] : []),
  ];
}

function detail(t: TargetResult, rep?: RepeatReport): string {
  return [
    `target: ${t.id} — ${t.description}`,
    `metric: ${t.metric}`,
    `expected: ${formatTarget(t)}`,
    `actual: ${fmt(t.actual, t.unit)}${rep ? ` (${rep.judge === 'median' ? 'median' : 'worst'} of ${rep.runs.length} runs)` : ''}`,
    ...repeatDetail(t, rep),
    `source: ${sourceText(t)}`,
  ].join('\n');
}

function testcase(scenario: string, t: TargetResult, rep?: RepeatReport): string {
  const head = `    <testcase${attrs({ classname: scenario, name: `${t.id}: ${t.description}`, time: 0 })}`;
  if (t.status === 'pass') return `${head}>\n      <system-out>${escapeXml(detail(t, rep))}</system-out>\n    </testcase>`;
  if (t.status === 'off') return `${head}>\n      <skipped${attrs({ message: `switched off in ${t.source.config ?? 'the config'}` })}/>\n      <system-out>${escapeXml(detail(t, rep))}</system-out>\n    </testcase>`;
  const message = t.status === 'unknown' ? 'not measured' : `actual ${fmt(t.actual, t.unit)}, expected ${formatTarget(t)}`;
  const type = t.status === 'unknown' ? 'not-measured' : 'target-missed';
  return `${head}>\n      <failure${attrs({ message, type })}>${escapeXml(detail(t, rep))}</failure>\n    </testcase>`;
}

/** The report as a JUnit XML document (one suite, named after the scenario). */
export function renderJunit(report: RunReport): string {
  const scenario = report.scenario.name;
  const failures = report.targets.filter((t) => t.status !== 'pass' && t.status !== 'off').length;
  const skipped = report.targets.filter((t) => t.status === 'off').length;
  const errored = report.verdict === 'error' || report.verdict === 'interrupted';
  const tests = report.targets.length + (errored ? 1 : 0);
  const seconds = (report.durationMs / 1000).toFixed(3);
  const cases = report.targets.map((t) => testcase(scenario, t, report.repeat));
  if (errored) {
    const code = report.error?.code ?? (report.verdict === 'interrupted' ? 'WSB_INTERRUPTED' : 'WSB_INTERNAL');
    const message = `${code}: ${report.error?.message ?? report.verdict}`;
    const body = [message, ...(report.error?.hint ? [`hint: ${report.error.hint}`] : []), `verdict: ${report.verdict}`].join('\n');
    cases.push(
      `    <testcase${attrs({ classname: scenario, name: `run: ${report.verdict === 'interrupted' ? 'interrupted' : 'harness error'}`, time: seconds })}>\n` +
        `      <error${attrs({ message, type: code })}>${escapeXml(body)}</error>\n    </testcase>`,
    );
  }
  const props: Array<[string, string | number]> = [
    ['runId', report.runId],
    ['verdict', report.verdict],
    ['wsbench', report.tool.version],
    ['server', report.topology.server],
    ['nodes', report.topology.nodes],
    ['lbPolicy', report.topology.lbPolicy],
    ...Object.entries(report.options)
      .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
      .map(([k, v]): [string, string | number] => [`option.${k}`, String(v)]),
  ];
  const out = [...report.generator.notes.map((n) => `note: ${n}`), verdictLine(report)];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'wsbench', tests, failures, errors: errored ? 1 : 0, time: seconds })}>`,
    `  <testsuite${attrs({ name: scenario, tests, failures, errors: errored ? 1 : 0, skipped, time: seconds, timestamp: report.startedAt.replace(/Z$/, ''), hostname: report.environment.hostname })}>`,
    '    <properties>',
    ...props.map(([name, value]) => `      <property${attrs({ name, value })}/>`),
    '    </properties>',
    ...cases,
    `    <system-out>${escapeXml(out.join('\n'))}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
