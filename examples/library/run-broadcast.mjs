// wsbench from code: a small cross-node-broadcast run, gated on its report.
//
//   npm install wsbench && node run-broadcast.mjs       (exit 0: every target met; 1: a target
//                                                       missed or a delivery lost; 2: the run failed)
//
// The report is also written to WSBENCH_OUT (default wsbench-results/<run id>), with report.html
// and junit.xml beside it.
import { run, defineConfig, renderConsole, exitCodeFor } from 'wsbench';

const config = defineConfig({
  scenario: 'cross-node-broadcast',
  nodes: 2,
  options: { connections: 60, rooms: 2, rate: 4, warmup: 1, duration: 3, drain: 1, workers: 1 },
  ...(process.env.WSBENCH_OUT ? { out: process.env.WSBENCH_OUT } : {}),
});

// Ctrl-C stops the run gracefully: the cluster is torn down and a partial report is written.
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const report = await run(config, {
  signal: controller.signal,
  onEvent: (e) => process.stderr.write(`${e.message}\n`),
});
process.stdout.write(`${renderConsole(report)}\n`);

// The gate: the verdict of the seed targets, and every expected delivery received exactly once.
const a = report.accounting;
const delivered = a.expected > 0 && a.received === a.expected && a.lost === 0 && a.duplicated === 0;
process.stdout.write(`${JSON.stringify({ verdict: report.verdict, expected: a.expected, received: a.received, lost: a.lost, delivered })}\n`);
process.exitCode = report.verdict === 'error' || report.verdict === 'interrupted' ? exitCodeFor(report.verdict) : report.verdict === 'pass' && delivered ? 0 : 1;
