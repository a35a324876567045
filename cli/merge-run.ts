/**
 * `wsbench merge`: reads the partial reports, checks they are every shard of one plan once,
 * merges them (reports/merge.ts), judges the targets once on the whole and writes
 * report.json / report.html / junit.xml as a run does. Exit code as a run: 0 pass, 1 a target
 * missed, 2 bad input (coded error: WSB_MERGE_MIXED_PLANS, WSB_MERGE_MISSING_SHARD, …).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readReport, writeFileAtomic, writeReportAtomic } from '../reports/write-report.js';
import { evaluateTargets, exitCodeFor, verdictOf } from '../model/evaluate.js';
import { checkShards, mergePartials } from '../reports/merge.js';
import { renderConsole } from '../reports/console.js';
import { renderHtml } from '../reports/html.js';
import { renderJunit } from '../reports/junit.js';
import type { RunReport } from '../model/run-report.js';
import type { CommandIO } from './report-commands.js';
import { k6OperatorPartials } from './merge-k6-operator.js';

/** A partial.json, or a run folder holding one. */
function partialPath(p: string): string {
  return existsSync(p) && statSync(p).isDirectory() ? join(p, 'partial.json') : p;
}

export async function mergeCommand(files: string[], flags: { out?: string; json?: boolean; k6Operator?: string }, io: CommandIO): Promise<number> {
  const read: Array<{ file: string; report: unknown }> = [];
  // --k6-operator: the arguments are the folders holding the runners' files (copied out of the results claim).
  if (flags.k6Operator) read.push(...(await k6OperatorPartials(flags.k6Operator, files)));
  else for (const f of files) read.push({ file: partialPath(f), report: await readReport(partialPath(f)) });
  const partials = checkShards(read);
  const first = partials[0];
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const runId = `${first.scenario.name}-merged-${first.shard.planId}-${stamp}-${randomBytes(2).toString('hex')}`;
  const { base, specs, spreadMs } = mergePartials(partials, { runId });
  const targets = evaluateTargets(base, specs);
  const report: RunReport & { mergedFrom: unknown } = { ...base, targets, verdict: verdictOf(targets) };
  const outDir = resolve(flags.out ?? join('wsbench-results', runId));
  mkdirSync(outDir, { recursive: true });
  const reportPath = join(outDir, 'report.json');
  await writeReportAtomic(reportPath, report);
  await writeFileAtomic(join(outDir, 'report.html'), renderHtml(report));
  await writeFileAtomic(join(outDir, 'junit.xml'), renderJunit(report));
  io.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderConsole(report)}\n`);
  const spread = spreadMs === null ? 'start spread unknown (a partial from an older wsbench)' : `measured phases started within ${(spreadMs / 1000).toFixed(3)} s of each other`;
  io.stderr.write(`merged ${partials.length} shards of plan ${first.shard.planId} (${spread}; timeline on wall-clock seconds): ${reportPath} (also report.html, junit.xml)\n`);
  return exitCodeFor(report.verdict);
}
