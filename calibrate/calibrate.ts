/**
 * `wsbench calibrate`: proves wsbench's numbers on this machine (issue #10). It runs short
 * cross-node-broadcast runs against reference nodes that inject faults of known size
 * (`--calibration-fault`, reference-server/calibration-faults.ts) and against a generator whose
 * publishers stall on purpose. For each case it compares what was injected with what wsbench
 * measured. The counts must be equal, and the timings must agree within stated tolerances. With
 * `--wire` it also compares the generator's receive times with packet timestamps taken on the
 * loopback interface (calibrate/wire-check.ts).
 *
 * Exit code: 0 when every check agrees, 1 when one does not, 2 when a run failed (harness error,
 * bad options, Ctrl-C).
 */
import { writeFileSync } from 'node:fs';
import { prepareOutDir } from '../common/out-dir.js';
import { join, resolve } from 'node:path';
import type { StartedCluster } from '../cluster/types.js';
import type { RunReport } from '../model/run-report.js';
import type { RunEvent } from '../model/run-events.js';
import type { RunPlan } from '../runner/plan.js';
import { newRunId } from '../runner/run-id.js';
import { run } from '../runner/run.js';
import { WsbenchError } from '../common/errors.js';
import { readReceiveLogs } from './receive-log.js';
import { crossCheck, readFrames, startCapture, wireTools, type Capture } from './wire-check.js';
import { CALIBRATION_CASES, type CalibrateOptions, type CalibrationCase } from './options.js';
import { checksFor, wireCase, type CalibrationResult, type CaseResult } from './checks.js';

export * from './options.js';
export * from './checks.js';
export { renderCalibration } from './render.js';

export interface CalibrateIO {
  /** Builds a case's plan from run flags (the CLI gives its `buildPlan`: flags → validated plan). */
  plan: (scenario: string, flags: Record<string, unknown>) => RunPlan;
  /** A line for the user ("calibrate: delay — delay-cross=20"). */
  log?: (line: string) => void;
  /** Each case's run events (log lines, progress), with the case's name. */
  onRunEvent?: (caseName: string, e: RunEvent) => void;
  signal: AbortSignal;
  /** Every pid the current run (and the capture) started, for a forced exit. */
  onPids?: (pids: () => number[]) => void;
  /** Called with each case's run id as it starts (a forced exit cleans its containers). */
  onRun?: (runId: string) => void;
}

/**
 * Runs the calibration: every case of `o.cases` (baseline first, and baseline whenever delay or
 * stall is asked for), then the wire cross-check with `o.wire`. Throws WsbenchError when a run
 * fails (exit 2); otherwise resolves with every check.
 */
export async function calibrate(o: CalibrateOptions, io: CalibrateIO): Promise<CalibrationResult> {
  const say = (line: string) => io.log?.(line);
  // Checked and made before anything starts (a coded error, never a hang on /proc: common/out-dir.ts).
  const outDir = prepareOutDir(o.out ?? join('wsbench-results', newRunId('calibrate')));
  // Checked before anything starts: a missing tshark must not cost the whole calibration first.
  const tools = o.wire ? wireTools() : undefined;
  const wanted = new Set<CalibrationCase>(o.cases);
  if (wanted.has('delay') || wanted.has('stall')) wanted.add('baseline');
  const order = CALIBRATION_CASES.filter((c) => wanted.has(c));
  let pids: () => number[] = () => [];
  let capturePid: number | undefined;
  io.onPids?.(() => [...pids(), ...(capturePid === undefined ? [] : [capturePid])]);

  const common = {
    driver: o.driver,
    server: o.server,
    nodes: o.nodes,
    connectRate: o.connectRate,
    ...(o.readyTimeout === undefined ? {} : { readyTimeout: o.readyTimeout }),
    ...(o.dockerNetwork === undefined ? {} : { dockerNetwork: o.dockerNetwork }),
  };
  const broadcast = { connections: o.connections, rooms: o.rooms, rate: o.rate, warmup: o.warmup, duration: o.duration, drain: o.drain };
  const perCase: Record<CalibrationCase, Record<string, unknown>> = {
    baseline: {},
    delay: { calibrationFault: [`delay-cross=${o.delayMs}`] },
    drop: { calibrationFault: [`drop-every=${o.dropEvery}:${o.dropRoom}`] },
    dup: { calibrationFault: [`dup-every=${o.dupEvery}`] },
    swap: { calibrationFault: ['swap-pairs'] },
    stall: { publisherStallMs: o.stallMs, publisherStallAt: o.stallAt },
  };

  const runOne = async (name: string, flags: Record<string, unknown>, onClusterUp?: (c: StartedCluster, dir: string) => Promise<void>): Promise<{ report: RunReport; dir: string }> => {
    const dir = join(outDir, name);
    const plan = io.plan('cross-node-broadcast', { ...common, ...flags, out: dir });
    io.onRun?.(plan.runId);
    say(`calibrate: ${name} — ${plan.topology.calibrationFaults?.join(', ') ?? (name === 'stall' ? `publisher stall ${o.stallMs} ms` : 'no fault')}`);
    const outcome = await run(plan, { signal: io.signal, onEvent: (e) => io.onRunEvent?.(name, e), onPids: (p) => (pids = p), ...(onClusterUp ? { onClusterUp } : {}) });
    const err = outcome.report.error;
    if (err) {
      throw new WsbenchError(err.code as WsbenchError['code'], `calibration case ${name}: ${err.message}`, { hint: err.hint ?? `see ${dir}` });
    }
    return { report: outcome.report, dir };
  };

  const cases: CaseResult[] = [];
  const reports = new Map<CalibrationCase, RunReport>();
  for (const c of order) {
    const { report, dir } = await runOne(c, { ...broadcast, ...perCase[c] });
    reports.set(c, report);
    const { injected, checks, figures } = checksFor(c, o, report, reports.get('baseline'));
    cases.push({ case: c, injected, checks, runDir: dir, figures });
  }

  let wire: CalibrationResult['wire'];
  if (o.wire && tools) {
    const rooms = Math.max(1, Math.round(o.wireConnections / (o.wireMembers + 1)));
    const members = Math.floor((o.wireConnections - rooms) / rooms);
    const rate = Math.round((o.wireDeliveries / (rooms * members)) * 1000) / 1000;
    const logPath = join(outDir, 'wire', 'receive-log');
    let capture: Capture | undefined;
    let captured: { captured: number | null; dropped: number | null } = { captured: null, dropped: null };
    let ports = { lb: 0, node: 0 };
    const file = join(outDir, 'wire', 'capture.pcapng');
    try {
      const { dir } = await runOne(
        'wire',
        { connections: o.wireConnections, rooms, rate, warmup: 3, duration: o.wireDuration, drain: 2, receiveLog: logPath, receiveLogEvery: o.wireSampleEvery },
        async (cluster, dir) => {
          ports = { lb: cluster.lb.port, node: cluster.nodes[0].port };
          capture = await startCapture({ dumpcap: tools.dumpcap, ports: [ports.lb, ports.node], file, logFile: join(dir, 'logs', 'dumpcap.log') });
          capturePid = capture.pid;
          say(`  [wire] capturing on lo: frames from nginx :${ports.lb} (to the clients) and node-1 :${ports.node} → ${file}`);
        },
      );
      captured = (await capture?.stop()) ?? captured;
      capturePid = undefined;
      say(`  [wire] reading the capture (${captured.captured ?? '?'} packets, ${captured.dropped ?? '?'} dropped by the kernel)`);
      const frames = await readFrames(tools.tshark, file);
      const result = crossCheck(frames, readReceiveLogs(logPath), { lbPort: ports.lb, nodePort: ports.node, node: 'node-1' });
      wire = { ...result, connections: o.wireConnections, sampleEvery: o.wireSampleEvery, ...captured };
      cases.push(wireCase(wire, dir, ports));
    } finally {
      await capture?.stop();
      capturePid = undefined;
    }
  }

  const result: CalibrationResult = { cases, ...(wire ? { wire } : {}), agrees: cases.every((c) => c.checks.every((k) => k.agrees)), outDir };
  writeFileSync(join(outDir, 'calibration.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
