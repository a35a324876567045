/**
 * The bench's verdicts and its printed output: the goals of issue 17 (each a ratio to bare ws
 * measured in the same run, or a KiB limit), the noise gate, and the tables.
 */
import {
  CPU_BROADCASTS_PER_S,
  CPU_CONNS,
  CPU_MEASURE_MS,
  CPU_ROOMS,
  CPU_ROUNDS,
  GOALS,
  KIND_LABEL,
  MEM_N1,
  MEM_N2,
  MEM_PING_MS,
  MEM_ROOMS,
  MEM_STEPS,
  MICRO_N,
  MICRO_REPEAT,
  NOISY_OTHERS_PERCENT,
  median,
  type Kind,
} from './config.js';
import type { MemResult } from './mem-phase.js';
import type { MicroResult } from './micro.js';
import { CATEGORIES } from './profile-breakdown.js';
import type { CpuResult } from './rounds.js';

export interface Goal {
  goal: string;
  /** Bare ws's figure (null for an absolute limit) and ours. */
  bare: number | null;
  ours: number;
  /** ours / bare, or ours for an absolute limit. */
  value: number;
  limit: number;
  unit: '×' | 'KiB';
  pass: boolean;
}

export interface Verdict {
  goals: Goal[];
  /** The most other processes used during the CPU windows and the setup phases, % of the machine. */
  othersPercent: number;
  noisy: boolean;
}

const perRound = (cpu: Record<string, CpuResult>, a: string, b: string) => cpu[a].roundsUsPerDelivery.map((x, i) => x / cpu[b].roundsUsPerDelivery[i]);

/** CPU per delivery is judged on the median of the per-round ratios (each round's windows are seconds apart). */
export function cpuRatio(cpu: Record<string, CpuResult>, variant: string): number {
  return median(perRound(cpu, variant, 'bare'));
}

export function judge(mem: Partial<Record<Kind, MemResult>>, cpu: Record<string, CpuResult>): Verdict {
  const goals: Goal[] = [];
  for (const [kind, name] of [
    ['lean', 'Socket.IO lean client'],
    ['json', 'JSON-frame client'],
  ] as const) {
    if (cpu[kind] !== undefined && cpu.bare !== undefined) {
      const value = cpuRatio(cpu, kind);
      goals.push({ goal: `${name}: CPU per delivery, full accounting`, bare: cpu.bare.fixed.usPerDelivery, ours: cpu[kind].fixed.usPerDelivery, value, limit: GOALS.cpuPerDeliveryRatio, unit: '×', pass: value <= GOALS.cpuPerDeliveryRatio });
    }
    const m = mem[kind];
    if (m !== undefined) {
      goals.push({ goal: `${name}: memory per connection under load`, bare: mem.bare?.kibPerConn ?? null, ours: m.kibPerConn, value: m.kibPerConn, limit: GOALS.memKiBUnderLoad, unit: 'KiB', pass: m.kibPerConn <= GOALS.memKiBUnderLoad });
      if (mem.bare !== undefined) {
        const value = m.setup.cpuUsPerConn / mem.bare.setup.cpuUsPerConn;
        goals.push({ goal: `${name}: client CPU per connection set up`, bare: mem.bare.setup.cpuUsPerConn, ours: m.setup.cpuUsPerConn, value, limit: GOALS.setupCpuRatio, unit: '×', pass: value <= GOALS.setupCpuRatio });
      }
    }
  }
  const others = [...Object.values(cpu).map((c) => c.fixed.otherCpuPercent), ...Object.values(mem).map((m) => m.setup.otherCpuPercent ?? 0)];
  const othersPercent = others.length === 0 ? 0 : Math.max(...others);
  return { goals, othersPercent, noisy: othersPercent > NOISY_OTHERS_PERCENT };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);
const range = (xs: number[]) => `${f1(Math.min(...xs))}–${f1(Math.max(...xs))}`;

export interface Machine {
  node: string;
  cpus: number;
  cpuModel: string;
  totalMemGiB: number;
  versions: Record<string, string>;
  loadAvgAtStart: number;
  loadAvgAtEnd: number;
}

export function render(machine: Machine, mem: Partial<Record<Kind, MemResult>>, cpu: Record<string, CpuResult>, variants: string[], m: MicroResult | null, v: Verdict, durationS: number): string {
  const out: string[] = [];
  out.push('');
  out.push(`Generator benchmark — ${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemGiB} GiB, Node ${machine.node}, ws ${machine.versions.ws}, socket.io ${machine.versions['socket.io']}, socket.io-client ${machine.versions['socket.io-client']}`);
  out.push('');
  const kinds = (Object.keys(mem) as Kind[]).filter((k) => mem[k] !== undefined);
  if (kinds.length > 0) {
    out.push(`Connection setup: ${int(MEM_N1)} connections, nobody sending; the client process's CPU (handshake; wsbench's clients also JWT, CONNECT, welcome, join)`);
    out.push(`  ${pad('client', 28)}${lpad('µs/conn', 9)}${lpad('connects/s', 12)}${lpad('server µs/conn', 16)}${lpad('others %', 10)}`);
    for (const k of kinds) {
      const s = mem[k]!.setup;
      out.push(`  ${pad(KIND_LABEL[k], 28)}${lpad(f1(s.cpuUsPerConn), 9)}${lpad(int(s.connectsPerS), 12)}${lpad(f1(s.serverCpuUsPerConn), 16)}${lpad(s.otherCpuPercent === null ? 'n/a' : f1(s.otherCpuPercent), 10)}`);
    }
    out.push(`  where the client's setup time goes (1,000 more connections under the profiler afterwards): % of busy samples, and that share of µs/conn`);
    out.push(`  ${pad('category', 16)}${kinds.map((k) => lpad(k, 16)).join('')}`);
    for (const c of CATEGORIES) {
      const cells = kinds.map((k) => {
        const p = mem[k]!.setupProfile;
        const busy = p.busyUs / Math.max(1, p.deliveries);
        const share = busy > 0 ? p.perDeliveryUs[c] / busy : 0;
        return lpad(`${f1(share * 100)} % ${f1(share * mem[k]!.setup.cpuUsPerConn)}`, 16);
      });
      if (cells.some((x) => !/^\s*0\.0 % 0\.0$/.test(x))) out.push(`  ${pad(c, 16)}${cells.join('')}`);
    }
    for (const k of kinds) {
      const p = mem[k]!.setupProfile;
      const busy = p.busyUs / Math.max(1, p.deliveries);
      out.push(`  top of ${k}: ${p.top.slice(0, 6).map((t) => `${t.fn} (${t.script || 'native'}) ${f1((t.usPerDelivery / busy) * 100)} %`).join(' · ')}`);
    }
    out.push('');
    out.push(
      `Memory per connection under load: extra RSS from ${int(MEM_N1)} to ${int(MEM_N2)} connections (slope over ${MEM_STEPS + 1} checkpoints) after forced GC, ` +
        `pings every ${MEM_PING_MS / 1000} s, a broadcast to each of ${MEM_ROOMS} rooms at each checkpoint, receive path on`,
    );
    out.push(`  ${pad('client', 28)}${lpad('KiB/conn', 9)}${lpad('N1→N2 only', 12)}${lpad('heap KiB/conn', 15)}${lpad('RSS MiB', 13)}${lpad('received', 10)}`);
    for (const k of kinds) {
      const x = mem[k]!;
      out.push(
        `  ${pad(KIND_LABEL[k], 28)}${lpad(f2(x.kibPerConn), 9)}${lpad(f2(x.endpointsKibPerConn), 12)}${lpad(f2(x.heapKibPerConn), 15)}` +
          `${lpad(`${Math.round(x.rssMiB[0])} → ${Math.round(x.rssMiB[x.rssMiB.length - 1])}`, 13)}${lpad(int(x.received), 10)}`,
      );
    }
    out.push('');
  }
  if (variants.length > 0) {
    const offered = cpu[variants[0]].offeredPerS;
    out.push(
      `Receive CPU per delivery: ${int(CPU_CONNS)} connections, ${CPU_ROOMS} rooms × ${CPU_CONNS / CPU_ROOMS}, a room broadcast every ${1000 / CPU_BROADCASTS_PER_S} ms ` +
        `(${int(offered)} deliveries/s offered), ${CPU_ROUNDS} interleaved rounds × ${CPU_MEASURE_MS / 1000} s, pooled; cpuUsage of the receiving process`,
    );
    out.push(`  ${pad('client', 34)}${lpad('µs/deliv', 9)}${lpad('user+sys', 10)}${lpad('rounds', 11)}${lpad('recv/s', 8)}${lpad('B alloc', 9)}${lpad('GC ms/s', 9)}${lpad('max/s/core', 12)}${lpad('others %', 10)}`);
    for (const name of variants) {
      const c = cpu[name];
      out.push(
        `  ${pad(c.label, 34)}${lpad(f2(c.fixed.usPerDelivery), 9)}${lpad(`${f1(c.fixed.userUsPerDelivery)}+${f1(c.fixed.sysUsPerDelivery)}`, 10)}${lpad(range(c.roundsUsPerDelivery), 11)}` +
          `${lpad(int(c.fixed.perSec), 8)}${lpad(int(c.fixed.allocBytesPerDelivery), 9)}${lpad(f1(c.fixed.gcMsPerS), 9)}${lpad(int(c.perCore), 12)}${lpad(f1(c.fixed.otherCpuPercent), 10)}`,
      );
    }
    out.push(`  (B alloc = V8-heap bytes allocated per delivery; max/s/core = 1e6 / µs per delivery; others % = CPU of the machine's other processes, % of all ${machine.cpus} cores)`);
    const pinged = variants.filter((n) => cpu[n].fixed.pingsPerKDelivery > 0);
    if (pinged.length > 0)
      out.push(`  Engine.IO pings answered in the windows (keep-alive, not deliveries): ${pinged.map((n) => `${n} ${f2(cpu[n].fixed.pingsPerKDelivery)} per 1,000 deliveries`).join(', ')}`);
    const ab = variants.filter((n) => n.endsWith('@base') && cpu[n.slice(0, -5)] !== undefined);
    if (ab.length > 0) {
      const ratios = ab.map((n) => {
        const r = perRound(cpu, n.slice(0, -5), n);
        return `${n.slice(0, -5)} ${f2(median(r))}× (rounds ${f2(Math.min(...r))}–${f2(Math.max(...r))})`;
      });
      out.push(`  this build / the baseline build (BENCH_BASELINE), median of the per-round ratios: ${ratios.join(', ')}`);
    }
    const profiled = variants.filter((n) => cpu[n].profile !== null);
    if (profiled.length > 0) {
      out.push('');
      out.push(`Where the time goes: self time in one profiled ${(cpu[profiled[0]].profile!.wallUs / 1e6).toFixed(1)} s window per client (V8 sampling profiler in the receiving process),`);
      out.push(`  % of the busy samples, and that share of the measured µs per delivery (the profiler's own cost is left out)`);
      out.push(`  ${pad('category', 16)}${profiled.map((n) => lpad(n, 16)).join('')}`);
      const share = (n: string, c: (typeof CATEGORIES)[number]) => {
        const p = cpu[n].profile!;
        const busyPerDelivery = p.busyUs / Math.max(1, p.deliveries);
        return busyPerDelivery > 0 ? p.perDeliveryUs[c] / busyPerDelivery : 0;
      };
      for (const c of CATEGORIES) out.push(`  ${pad(c, 16)}${profiled.map((n) => lpad(`${f1(share(n, c) * 100)} % ${f2(share(n, c) * cpu[n].fixed.usPerDelivery)}`, 16)).join('')}`);
      for (const n of profiled) {
        const p = cpu[n].profile!;
        const busyPerDelivery = p.busyUs / Math.max(1, p.deliveries);
        out.push(`  top of ${n}: ${p.top.slice(0, 6).map((t) => `${t.fn} (${t.script || 'native'}) ${f1((t.usPerDelivery / busyPerDelivery) * 100)} %`).join(' · ')}`);
      }
      out.push(`  (socket/framing: ws and node's net/stream code; parse: the client's framing and its JSON.parse; native/program: the event loop's C++ side, syscalls)`);
    }
    out.push('');
  }
  if (m !== null) {
    const na = (x: number | null) => (x === null ? 'n/a' : f2(x));
    const tickUs = (m.tickEncodeMs * 1000) / (CPU_BROADCASTS_PER_S * (CPU_CONNS / CPU_ROOMS));
    out.push(`In-process cost per message (same frames, no sockets; best of ${MICRO_REPEAT} × ${int(MICRO_N)}), µs`);
    out.push(`  bare: Buffer → string → JSON.parse                                    ${lpad(f2(m.bareParse), 6)}`);
    out.push(`  lean: SioClient.handleMessage → onEvent (Engine.IO/Socket.IO + parse) ${lpad(na(m.leanParse), 6)}`);
    out.push(`  receive path: ArrivalRecorder.onArrival (nowUs, ledger, HDR records)  ${lpad(f2(m.onArrival), 6)}   of which nowUs ${f2(m.nowUs)}, ledger.record ${f2(m.ledgerRecord)}, recordUs ${f2(m.recordUs)} each`);
    const sealUs = ((m.sealMs ?? 0) * 1000) / (CPU_BROADCASTS_PER_S * (CPU_CONNS / CPU_ROOMS));
    out.push(`  lean total: handleMessage → onArrival                                 ${lpad(na(m.leanTotal), 6)}   worker tick: encodeHistogram ${f2(m.tickEncodeMs)} ms/s = ${f2(tickUs)} µs/delivery`);
    out.push(`  once a second: sealing a second's histograms (sealBefore) ${f2(m.sealMs)} ms = ${f2(sealUs)} µs/delivery at the offered rate`);
    if (m.leanParse !== null && m.leanTotal !== null) {
      // The lean path's extra over bare, by part: what a socket-level gap is made of, before cache effects.
      const extra = m.leanTotal - m.bareParse + tickUs + sealUs;
      const bare = cpu.bare?.fixed.usPerDelivery;
      out.push(
        `  lean − bare: ${f2(extra)} µs = framing ${f2(m.leanParse - m.bareParse)} + glue ${f2(m.leanTotal - m.leanParse - m.onArrival)} (profile getters; the two parts sharing caches) + recorder ${f2(m.onArrival)} + once a second ${f2(tickUs + sealUs)}` +
          (bare !== undefined ? ` — ${f2((bare + extra) / bare)}× of bare ws's ${f2(bare)} µs/delivery in this run, if the socket side cost the same` : ''),
      );
    }
    out.push('');
  }
  if (v.goals.length > 0) {
    out.push(`Goals (issue 17; ratios to bare ws in this run; CPU per delivery: median of the ${CPU_ROUNDS} per-round ratios)`);
    out.push(`  ${pad('', 7)}${pad('goal', 58)}${lpad('bare ws', 9)}${lpad('wsbench', 9)}${lpad('value', 9)}${lpad('limit', 8)}`);
    for (const g of v.goals) {
      const mark = v.noisy ? 'NOISY' : g.pass ? 'PASS' : 'MISS';
      const unit = g.unit === '×' ? '×' : ' KiB';
      out.push(`  ${pad(mark, 7)}${pad(g.goal, 58)}${lpad(g.bare === null ? '—' : f2(g.bare), 9)}${lpad(f2(g.ours), 9)}${lpad(`${f2(g.value)}${unit === '×' ? '×' : ''}`, 9)}${lpad(`≤ ${g.limit}${unit}`, 8)}`);
    }
    if (v.noisy)
      out.push(
        `  NOISY: other processes used up to ${f1(v.othersPercent)} % of the machine (limit ${NOISY_OTHERS_PERCENT} %): the figures above are printed, but not judged — rerun on a quiet machine (exit 3)`,
      );
    out.push('');
  }
  out.push(`(${f1(durationS)} s; load average ${f2(machine.loadAvgAtStart)} → ${f2(machine.loadAvgAtEnd)} on ${machine.cpus} CPUs; bench/results/latest.json)`);
  return out.join('\n') + '\n';
}
