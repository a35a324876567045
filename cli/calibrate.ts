/** `wsbench calibrate`: options → calibrate/ → the table (or JSON) → exit code. */
import { WsbenchError, isWsbenchError } from '../common/errors.js';
import { calibrate, parseCalibrateOptions, renderCalibration, type CalibrateIO } from '../calibrate/calibrate.js';
import { eventLines } from '../reports/run-event-lines.js';
import { buildPlan } from './plan.js';

export interface CalibrateCommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
  onPids?: CalibrateIO['onPids'];
  onRun?: CalibrateIO['onRun'];
}

/** The command: parse, calibrate, print; resolves with the exit code. */
export async function calibrateCommand(raw: Record<string, unknown>, io: CalibrateCommandIO): Promise<number> {
  const o = parseCalibrateOptions(raw);
  const lines = new Map<string, ReturnType<typeof eventLines>>();
  try {
    const r = await calibrate(o, {
      plan: buildPlan,
      log: (line) => io.stderr.write(`${line}\n`),
      // Each case's own run lines, indented and named; progress one line every 5 s.
      onRunEvent: (name, e) => {
        let l = lines.get(name);
        if (!l) lines.set(name, (l = eventLines((t) => io.stderr.write(t), { prefix: `  [${name}] ` })));
        l.onEvent(e);
      },
      signal: io.signal,
      ...(io.onPids ? { onPids: io.onPids } : {}),
      ...(io.onRun ? { onRun: io.onRun } : {}),
    });
    io.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${renderCalibration(r)}\n`);
    return r.agrees ? 0 : 1;
  } catch (e) {
    if (isWsbenchError(e)) throw e;
    throw new WsbenchError('WSB_INTERNAL', e instanceof Error ? e.message : String(e), { hint: 'this is a wsbench bug; run with --debug and report it', cause: e });
  }
}
