/**
 * Generator benchmark (`npm run bench`) — a benchmark, not a test: it measures and prints
 * (docs/benchmarks.md). Exit 0 with its goal table judged (PASS / MISS lines), 3 when the machine
 * was too noisy to judge (the figures are printed, the goals are not), 2 when the bench itself broke.
 *
 * It compares, in one run on this machine, each client in its own process against its own server
 * process on 127.0.0.1, source addresses spread over 127.0.x.y as the generator spreads them:
 *   bare — a bare `ws` client doing JSON.parse of each frame;
 *   lean — wsbench's lean Socket.IO client and the worker's receive path (bench/client-role.ts);
 *   json — wsbench's JSON-frame client and the receive path, against a `ws` server on the reference JSON wire;
 *   sioc — socket.io-client with the same receive path (for scale).
 *
 * 1. Setup and memory (bench/mem-phase.ts): client CPU per connection set up; extra RSS per
 *    connection under load (pings, broadcasts, receive path) after forced GC, N1 → N2.
 * 2. Receive CPU per delivery in interleaved rounds, GC and allocation per delivery, and one
 *    profiled window per client: where the time goes (bench/rounds.ts, bench/profile-breakdown.ts).
 * 3. An in-process breakdown (bench/micro.ts). 4. The goal table and the noise gate (bench/goal-table.ts).
 *
 * BENCH_ONLY=mem:lean,cpu:bare,… runs a subset and prints raw JSON; BENCH_CPU_PROF=<dir> also writes
 * a whole-process .cpuprofile per receiving process; BENCH_NOISE_OK=1 judges the goals even on a noisy
 * machine (the verdicts say so); BENCH_BASELINE=<dir> adds another build's lean and JSON-frame
 * clients to the CPU rounds (`lean@base`, `json@base`) and prints this build's / its ratio.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Child, killAll } from './child.js';
import { clientRole } from './client-role.js';
import {
  CONNECT_CONCURRENCY,
  CPU_BROADCASTS_PER_S,
  CPU_CONNS,
  CPU_MEASURE_MS,
  CPU_ROOMS,
  CPU_ROUNDS,
  CPU_SETTLE_MS,
  CPU_WARMUP_MS,
  GOALS,
  KINDS,
  KIND_LABEL,
  MEM_N1,
  MEM_N2,
  MEM_PING_MS,
  MEM_ROOMS,
  MEM_STEPS,
  MICRO_N,
  MICRO_REPEAT,
  NOISY_OTHERS_PERCENT,
  RESULTS_DIR,
  arg,
  type Kind,
  type ServerKind,
  type Work,
} from './config.js';
import { judge, render, type Machine } from './goal-table.js';
import { memPhase, type MemResult } from './mem-phase.js';
import { microRole, type MicroResult } from './micro.js';
import { cpuBench } from './rounds.js';
import { HOLDING_WORKER_NODE_FLAGS } from '../load/load-generator.js';
import { serverRole } from './server-role.js';

const INVESTIGATION = new Set(['lean-only', 'lean-ledger', 'lean-hdr', 'lean-semi64', 'lean-semi2', 'lean-holding']);

function versionOf(pkg: string): string {
  try {
    const p = fileURLToPath(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url));
    return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function orchestrate(): Promise<number> {
  const started = Date.now();
  const cpus = os.cpus();
  const machine: Machine & { platform: string; arch: string } = {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemGiB: Math.round(os.totalmem() / 2 ** 30),
    versions: { ws: versionOf('ws'), 'socket.io': versionOf('socket.io'), 'socket.io-client': versionOf('socket.io-client') },
    loadAvgAtStart: os.loadavg()[0],
    loadAvgAtEnd: 0,
  };
  process.stderr.write(`generator bench: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load average ${machine.loadAvgAtStart.toFixed(2)}\n`);

  // BENCH_ONLY=cpu,mem:lean … runs a subset (for investigation; ratios need bare in the set).
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (phase: string) => only === undefined || only.includes(phase) || only.includes(phase.split(':')[0]);
  const memory: Partial<Record<Kind, MemResult>> = {};
  for (const kind of KINDS) {
    // socket.io-client has no goal; its memory phase (slow connects, 13 KiB a connection) only when asked.
    if (kind === 'sioc' ? only?.includes('mem:sioc') !== true : !want(`mem:${kind}`)) continue;
    process.stderr.write(`  setup and memory: ${KIND_LABEL[kind]}, ${MEM_N1.toLocaleString('en-US')} → ${MEM_N2.toLocaleString('en-US')} connections…\n`);
    memory[kind] = await memPhase(kind);
  }
  const variants = (
    [
      ['bare', 'bare', 'parse', 'bare ws + JSON.parse', true],
      ['lean', 'lean', 'arrival', 'lean client + receive path', true],
      ['json', 'json', 'arrival', 'JSON-frame client + receive path', true],
      ['sioc', 'sioc', 'arrival', 'socket.io-client + receive path', false],
      // Investigation only (BENCH_ONLY=cpu:lean-only,…): the lean client without / with parts of the receive path.
      ['lean-only', 'lean', 'count', 'lean client, events only', false],
      ['lean-ledger', 'lean', 'ledger', 'lean client + ledger only', false],
      ['lean-hdr', 'lean', 'hdr', 'lean client + clock & HDR only', false],
      // Investigation: the worker's young generation larger (fewer scavenges), BENCH_ONLY=cpu:bare,cpu:lean,cpu:lean-semi64.
      ['lean-semi64', 'lean', 'arrival', 'lean, --max-semi-space-size=64', false, ['--max-semi-space-size=64']],
      // Investigation: a smaller young generation (more scavenges, less RSS), BENCH_ONLY=cpu:bare,cpu:lean,cpu:lean-semi2.
      ['lean-semi2', 'lean', 'arrival', 'lean, --max-semi-space-size=2', false, ['--max-semi-space-size=2']],
      // Investigation: the flags of workers that only hold connections (load/load-generator.ts), were they to receive: BENCH_ONLY=cpu:bare,cpu:lean,cpu:lean-holding.
      ['lean-holding', 'lean', 'arrival', 'lean, holding workers\' Node flags', false, [...HOLDING_WORKER_NODE_FLAGS]],
    ] as Array<[string, Kind, Work, string, boolean, string[]?, string?]>
  ).filter(([name]) => (INVESTIGATION.has(name) ? only?.includes(`cpu:${name}`) === true : want(`cpu:${name}`)));
  // BENCH_BASELINE=<another checkout, built>: its lean and JSON-frame clients in the same rounds, an
  // A/B of a change that one noisy run can judge (the ratio of the per-round figures, goal-table.ts).
  const baseline = process.env.BENCH_BASELINE;
  if (baseline !== undefined) {
    const entry = resolve(baseline, 'dist/bench/generator-bench.js');
    if (!existsSync(entry)) throw new Error(`BENCH_BASELINE: no ${entry} (build it: npx tsc -p tsconfig.json && npx tsc -p bench/tsconfig.json there)`);
    for (const [name, kind, work, label] of [...variants]) {
      if (kind === 'lean' || kind === 'json') variants.push([`${name}@base`, kind, work, `${label}, baseline`, false, undefined, entry]);
    }
  }
  const cpu = variants.length > 0 ? await cpuBench(variants) : {};
  let micro: MicroResult | null = null;
  if (want('micro')) {
    process.stderr.write('  in-process breakdown…\n');
    const child = new Child('micro', ['--role', 'micro']);
    try {
      micro = (await child.next('micro', 60_000)).result as MicroResult;
    } finally {
      await child.stop();
    }
  }
  machine.loadAvgAtEnd = os.loadavg()[0];
  const verdict = judge(memory, cpu);
  const durationS = (Date.now() - started) / 1000;
  if (only !== undefined) {
    process.stdout.write(JSON.stringify({ machine, memory, cpu, micro, verdict }, null, 2) + '\n');
  }
  process.stdout.write(
    render(
      machine,
      memory,
      cpu,
      variants.map(([n]) => n),
      micro,
      verdict,
      durationS,
    ),
  );
  const noiseOk = process.env.BENCH_NOISE_OK === '1';
  if (only === undefined) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(
      `${RESULTS_DIR}latest.json`,
      JSON.stringify(
        {
          benchmark: 'wsbench generator (npm run bench)',
          at: new Date().toISOString(),
          durationS,
          machine,
          config: {
            memory: { n1: MEM_N1, n2: MEM_N2, steps: MEM_STEPS, connectConcurrency: CONNECT_CONCURRENCY, rooms: MEM_ROOMS, pingMs: MEM_PING_MS },
            cpu: { connections: CPU_CONNS, rooms: CPU_ROOMS, broadcastsPerS: CPU_BROADCASTS_PER_S, rounds: CPU_ROUNDS, warmupMs: CPU_WARMUP_MS, settleMs: CPU_SETTLE_MS, measureMs: CPU_MEASURE_MS, microMessages: MICRO_N, microRepeat: MICRO_REPEAT },
            goals: GOALS,
            noisyOthersPercent: NOISY_OTHERS_PERCENT,
          },
          memory,
          cpu,
          micro,
          verdict,
        },
        null,
        2,
      ) + '\n',
    );
  }
  if (verdict.noisy && !noiseOk) return 3;
  return 0;
}

async function main(): Promise<void> {
  const role = arg('role');
  if (role === 'server') {
    process.on('disconnect', () => process.exit(0));
    const ping = arg('ping-ms');
    await serverRole(arg('server') as ServerKind, Number(arg('rooms') ?? 1), ping === undefined ? undefined : Number(ping));
    return;
  }
  if (role === 'micro') {
    await microRole();
    process.disconnect?.();
    return;
  }
  if (role === 'client') {
    process.on('disconnect', () => process.exit(0));
    process.on('SIGTERM', () => process.exit(0)); // a normal exit: --cpu-prof writes its profile
    await clientRole(arg('kind') as Kind, arg('work') as Work, arg('mode') as 'mem' | 'cpu', Number(arg('port')));
    return;
  }
  process.on('SIGINT', () => {
    killAll();
    process.exit(130);
  });
  process.on('SIGTERM', () => {
    killAll();
    process.exit(143);
  });
  process.on('exit', killAll);
  let code = 2;
  try {
    code = await orchestrate();
  } finally {
    killAll();
  }
  process.exitCode = code;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  killAll();
  process.exit(2);
});
