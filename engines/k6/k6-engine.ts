/**
 * The k6 engine behind the runner's Engine interface: k6 is found and the script bundled in
 * `prepare` (before the cluster starts), k6 runs in `run`, and its thresholds are reconciled with
 * the runner's targets in `judge` (a crossed threshold fails its target; k6 exit 99 is never a pass).
 */
import { SERVER_VARIANT_INFO } from '../../cluster/types.js';
import type { Engine, EnginePrepareInput, EngineRunContext, PreparedEngine } from '../types.js';
import { prepareK6, runK6 } from './engine.js';
import { exitCodeForK6, reconcileK6Thresholds } from './summary.js';

/** A write-only stream that hands each complete line to `line` (runK6 writes k6's output to a stream). */
function lineSink(line: (l: string) => void): NodeJS.WritableStream {
  let buf = '';
  const sink = {
    write(chunk: string | Uint8Array): boolean {
      buf += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        line(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      return true;
    },
  };
  return sink as unknown as NodeJS.WritableStream;
}

export const k6Engine: Engine = {
  name: 'k6',
  async prepare(input: EnginePrepareInput): Promise<PreparedEngine> {
    // A shard runs the WHOLE plan on its execution segment (k6 splits the VUs; the script deals rooms).
    const shard = input.shard?.ref ? { ref: input.shard.ref, ...(input.shard.startAtMs !== undefined ? { startAtMs: input.shard.startAtMs } : {}) } : undefined;
    const options = shard ? (input.shard!.planOptions ?? input.options) : input.options;
    const prep = await prepareK6({ scenario: input.scenario.name, options, nodes: input.topology.nodes, k6Path: input.k6Path, outDir: input.outDir, ...(shard ? { shard } : {}) });
    const pids: number[] = [];
    return {
      log: [`k6 engine: ${prep.k6.version.raw} (${prep.k6.path}), script bundled to ${prep.script.path}`],
      pids: () => pids,
      async run(ctx: EngineRunContext) {
        const t = input.topology;
        const out = await runK6(prep, {
          cluster: ctx.cluster,
          protocol: SERVER_VARIANT_INFO[t.server].protocol,
          jwtSecret: t.jwtSecret,
          targets: input.targets,
          options,
          outDir: ctx.outDir ?? input.outDir,
          signal: ctx.signal,
          // runK6 prefixes each of k6's lines with `k6 │ `: the sink strips it, the renderer decides.
          stderr: lineSink((l) => ctx.output(l.replace(/^k6 │ /, ''))),
          event: ctx.event,
          onSpawn: (pid) => {
            pids.push(pid);
            ctx.onProcess();
          },
        });
        if (shard && !out.result.timelineHistograms) throw new Error('k6 engine: a shard run produced no per-sample histograms');
        return {
          result: out.result,
          judge: (targets) => {
            // k6 judged the targets it can express as thresholds; a crossed one fails its target (engines/k6/summary.ts).
            const r = reconcileK6Thresholds(targets, out.thresholdSpecs, out.summary, out.exitCode);
            return { targets: r.targets, notes: r.notes, failed: exitCodeForK6(out.exitCode) === 1 };
          },
        };
      },
    };
  },
};
