/**
 * Ctrl-C and SIGTERM for a long command (`wsbench run`, `wsbench calibrate`): the first signal
 * aborts through an AbortSignal (teardown, partial report); the second kills every process the
 * run started, with their children (nginx's workers), and exits 130.
 */
import { forceKillRun } from '../runner/force-kill.js';

export interface InterruptScope {
  signal: AbortSignal;
  /** Tell the handler how to list the run's pids (runner `onPids`). */
  onPids: (pids: () => number[]) => void;
  /** Tell the handler the current run's id (a forced exit cleans its docker containers). */
  onRun: (runId: string) => void;
}

export async function withInterrupts<T>(
  opts: { driver?: string; runId?: string; stderr?: NodeJS.WritableStream; firstMessage?: string },
  body: (scope: InterruptScope) => Promise<T>,
): Promise<T> {
  const stderr = opts.stderr ?? process.stderr;
  const controller = new AbortController();
  let pids: () => number[] = () => [];
  let runId = opts.runId;
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++interrupts === 1) {
      stderr.write(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping… (tearing down, writing a partial report) press Ctrl-C again to force\n`);
      controller.abort();
      return;
    }
    stderr.write('forced: killing every process of the run\n');
    forceKillRun(pids(), { driver: opts.driver, runId });
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body({ signal: controller.signal, onPids: (p) => (pids = p), onRun: (id) => (runId = id) });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
