/**
 * `wsbench run`: plan → run core → what the terminal shows → exit code. The run core prints
 * nothing; this file renders its events (stderr), the report (stdout: table or JSON), the error
 * and where the report is.
 */
import { run, type RunOutcome } from '../runner/run.js';
import type { RunPlan } from '../runner/plan.js';
import { renderConsole } from '../reports/console.js';
import { eventLines } from '../reports/run-event-lines.js';

export interface RunCommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  signal: AbortSignal;
  onPids?: (pids: () => number[]) => void;
}

/** Prints a finished run: the table (or JSON) on stdout, the error and the report's path on stderr. */
export function printOutcome(plan: Pick<RunPlan, 'json'>, outcome: RunOutcome, io: Pick<RunCommandIO, 'stdout' | 'stderr'>): void {
  const { report, error } = outcome;
  if (plan.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (!error || report.timeline.length > 0) io.stdout.write(`${renderConsole(report)}\n`);
  if (error) io.stderr.write(`error ${error.code}: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}\n`);
  const n = report.repeat?.runs.length ?? 0;
  const runs = n ? `; each run's own report in ${n === 1 ? 'run-1/' : n === 2 ? 'run-1/ and run-2/' : `run-1/ … run-${n}/`} beside it` : '';
  io.stderr.write(`report: ${outcome.reportPath}${outcome.written.length ? ` (also ${outcome.written.join(', ')})` : ''}${runs}\n`);
}

export async function runCommand(plan: RunPlan, io: RunCommandIO): Promise<number> {
  const lines = eventLines((s) => io.stderr.write(s), { tty: Boolean(io.stderr.isTTY) });
  const outcome = await run(plan, { signal: io.signal, onEvent: lines.onEvent, ...(io.onPids ? { onPids: io.onPids } : {}) });
  lines.end();
  printOutcome(plan, outcome, io);
  return outcome.exitCode;
}
