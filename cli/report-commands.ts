/**
 * `wsbench report` and `wsbench compare`: thin commands over reports/ (read, render, compare).
 * They take their streams from the caller and return the exit code; errors are WsbenchErrors
 * (exit 2: unreadable report, bad flag) that main() prints with their hint.
 */
import { resolve } from 'node:path';
import { WsbenchError } from '../common/errors.js';
import { readReport, writeFileAtomic } from '../reports/write-report.js';
import { renderConsole } from '../reports/console.js';
import { SCENARIOS } from '../scenarios/index.js';
import { exitCodeFor } from '../model/evaluate.js';
import { renderHtml } from '../reports/html.js';
import { renderJunit } from '../reports/junit.js';
import { loadConfigFile } from '../config/load.js';
import { compareConfigProblems, type CompareConfig } from '../config/compare-options.js';
import { compareReports, parseMetricTolerance, parseMs, parsePercent, renderComparison, COMPARE_DEFAULTS } from '../reports/compare.js';

export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface ReportFlags {
  /** Write the HTML report here. */
  html?: string;
  /** Write JUnit XML here. */
  junit?: string;
  /** Print the JSON report instead of the console table. */
  json?: boolean;
}

/**
 * Re-renders a saved report: the console table (or the JSON with `--json`) on stdout, and the
 * HTML report / JUnit XML to the given files (each written atomically). Resolves with the exit code
 * of the report's verdict (0 pass, 1 fail, 2 error or interrupted), so it can gate a pipeline too.
 */
export async function reportCommand(file: string, flags: ReportFlags, io: CommandIO): Promise<number> {
  const report = await readReport(file);
  if (flags.html) {
    await writeFileAtomic(flags.html, renderHtml(report), { hint: 'choose a writable path for --html' });
    io.stderr.write(`html: ${resolve(flags.html)}\n`);
  }
  if (flags.junit) {
    await writeFileAtomic(flags.junit, renderJunit(report), { hint: 'choose a writable path for --junit' });
    io.stderr.write(`junit: ${resolve(flags.junit)}\n`);
  }
  io.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderConsole(report)}\n`);
  return exitCodeFor(report.verdict);
}

/** The scenario's option defaults (an option an older report lacks had its default then too), or none for an unknown scenario. */
function scenarioDefaults(name: string): Record<string, unknown> {
  const s = Object.prototype.hasOwnProperty.call(SCENARIOS, name) ? SCENARIOS[name as keyof typeof SCENARIOS] : undefined;
  const parsed = s?.options.safeParse({});
  return parsed?.success ? (parsed.data as Record<string, unknown>) : {};
}

export interface CompareFlags {
  /** Default tolerance, e.g. `10%`. */
  maxRegression?: string;
  /** Per-metric tolerances, `name=pct%` (repeatable). */
  metric?: string[];
  /** Latency changes below this many ms are never a regression, e.g. `1`. */
  latencyFloor?: string;
  /** A value the baseline has and current lacks is listed, not a failure. */
  allowMissing?: boolean;
  /** Different workload options only warn. */
  allowDifferentOptions?: boolean;
  json?: boolean;
  /** A config file whose `compare` section gives the tolerances (the flags override it). */
  config?: string;
}

/** The `compare` section of `--config <file>`, checked: WSB_CONFIG_INVALID naming the key, the value and what was expected. */
async function compareSection(path: string): Promise<CompareConfig> {
  const file = await loadConfigFile(path);
  if (file.compare === undefined) {
    throw new WsbenchError('WSB_CONFIG_INVALID', `config file ${path} has no \`compare\` section (keys: ${Object.keys(file).join(', ') || 'none'})`, {
      hint: 'add `compare: { maxRegression: 10, latencyFloor: 1, metrics: { "broadcast_latency_ms.p99": 25 } }` (docs/compare.md), or drop --config',
    });
  }
  const problems = compareConfigProblems(file.compare);
  if (problems.length) {
    throw new WsbenchError('WSB_CONFIG_INVALID', `invalid compare section in ${path}:\n  - ${problems.join('\n  - ')}`, { hint: 'see docs/compare.md#tolerances-by-kind-of-value' });
  }
  return file.compare as CompareConfig;
}

/**
 * Compares `current` against `baseline`: a table (or the comparison as JSON with `--json`) on
 * stdout. Resolves 1 when the gate fails (a value regressed beyond its tolerance or is missing
 * from current, the current run did not pass, or the workload differs), 0 otherwise; throws a
 * WsbenchError (exit 2) on a bad flag, an unreadable report, or reports that cannot be compared.
 */
export async function compareCommand(baselinePath: string, currentPath: string, flags: CompareFlags, io: CommandIO): Promise<number> {
  // Layers: defaults < the config's `compare` section < flags.
  const file: CompareConfig = flags.config === undefined ? {} : await compareSection(flags.config);
  const maxRegressionPct = flags.maxRegression === undefined ? (file.maxRegression ?? COMPARE_DEFAULTS.maxRegressionPct) : parsePercent(flags.maxRegression, '--max-regression');
  const metricTolerances: Record<string, number> = {};
  const metricToleranceSources: Record<string, { name: string; from: 'flags' | 'config' }> = {};
  for (const [name, pct] of Object.entries(file.metrics ?? {})) {
    metricTolerances[name] = pct;
    metricToleranceSources[name] = { name: `${flags.config}: compare.metrics.${name}`, from: 'config' };
  }
  for (const m of flags.metric ?? []) {
    const [name, pct] = parseMetricTolerance(m);
    metricTolerances[name] = pct;
    metricToleranceSources[name] = { name: `--metric ${name}`, from: 'flags' };
  }
  if (resolve(baselinePath) === resolve(currentPath)) {
    throw new WsbenchError('WSB_INVALID_OPTION', `baseline and current are the same file (${baselinePath})`, {
      hint: 'wsbench compare <baseline.json> <current.json>: the committed baseline first, then the new run',
    });
  }
  const baseline = await readReport(baselinePath);
  const current = await readReport(currentPath);
  const cmp = compareReports(baseline, current, {
    maxRegressionPct,
    metricTolerances,
    metricToleranceSources,
    latencyFloorMs: flags.latencyFloor === undefined ? (file.latencyFloor ?? COMPARE_DEFAULTS.latencyFloorMs) : parseMs(flags.latencyFloor, '--latency-floor'),
    ratioTolerancePp: file.ratioTolerance ?? COMPARE_DEFAULTS.ratioTolerancePp,
    allowMissing: flags.allowMissing ?? file.allowMissing ?? false,
    allowDifferentOptions: flags.allowDifferentOptions ?? file.allowDifferentOptions ?? false,
    optionDefaults: scenarioDefaults(baseline.scenario.name),
  });
  io.stdout.write(flags.json ? `${JSON.stringify(cmp, null, 2)}\n` : `${renderComparison(cmp)}\n`);
  return cmp.failed ? 1 : 0;
}
