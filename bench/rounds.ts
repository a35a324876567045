/**
 * Receive CPU per delivery: every variant gets its own server and receiving process, all connected
 * up front; the measured windows are interleaved (round r: every variant once, rotating the
 * order), so a change in what else runs on the machine hits every variant alike. After the rounds,
 * one profiled window per variant (bench/profile-breakdown.ts), kept out of the figures.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child, startServer, type Msg } from './child.js';
import { CPU_BROADCASTS_PER_S, CPU_CONNS, CPU_MEASURE_MS, CPU_ROOMS, CPU_ROUNDS, CPU_SETTLE_MS, CPU_WARMUP_MS, PROFILE_MS, machineBusyUs, serverFor, type Kind, type Work } from './config.js';
import type { Breakdown, GcWindow } from './profile-breakdown.js';

/** Raw sums over a measured window (receiving process, and the server feeding it). */
export interface RawWindow {
  deliveries: number;
  elapsedUs: number;
  cpuUs: number;
  userUs: number;
  sysUs: number;
  serverSent: number;
  /** Engine.IO pings the server sent in the window (each a read and a pong write in the client: not deliveries). */
  serverPings: number;
  serverElapsedUs: number;
  serverCpuUs: number;
  /** CPU time the rest of the machine (other processes) used during the window. */
  otherBusyUs: number;
  /** The receiving process's GC in the window (v8.GCProfiler). */
  gcCount: number;
  gcUs: number;
  allocBytes: number;
}

export interface Window {
  deliveries: number;
  /** Deliveries received per second. */
  perSec: number;
  /** Receiving process's CPU use, % of one core. */
  cpuPercent: number;
  /** CPU µs of the receiving process per delivery (user + system). */
  usPerDelivery: number;
  userUsPerDelivery: number;
  sysUsPerDelivery: number;
  /** Deliveries the server sent per second in the window, and its CPU use (% of one core). */
  serverSentPerSec: number;
  /** Engine.IO pings (and so pongs) per 1,000 deliveries: keep-alive work the client did in the window (0 for ws servers). */
  pingsPerKDelivery: number;
  serverCpuPercent: number;
  /** Other processes' CPU use during the window, % of the whole machine (all cores). */
  otherCpuPercent: number;
  /** GC pause time per second of the window (ms/s), collections per 1,000 deliveries, V8-heap bytes allocated per delivery. */
  gcMsPerS: number;
  gcsPerKDelivery: number;
  allocBytesPerDelivery: number;
}

export function derive(r: RawWindow): Window {
  const d = Math.max(1, r.deliveries);
  return {
    deliveries: r.deliveries,
    perSec: (r.deliveries * 1e6) / r.elapsedUs,
    cpuPercent: (r.cpuUs / r.elapsedUs) * 100,
    usPerDelivery: r.cpuUs / d,
    userUsPerDelivery: r.userUs / d,
    sysUsPerDelivery: r.sysUs / d,
    serverSentPerSec: (r.serverSent * 1e6) / r.serverElapsedUs,
    pingsPerKDelivery: (r.serverPings * 1000) / d,
    serverCpuPercent: (r.serverCpuUs / r.serverElapsedUs) * 100,
    otherCpuPercent: (r.otherBusyUs / r.elapsedUs / os.cpus().length) * 100,
    gcMsPerS: r.gcUs / 1000 / (r.elapsedUs / 1e6),
    gcsPerKDelivery: (r.gcCount * 1000) / d,
    allocBytesPerDelivery: r.allocBytes / d,
  };
}

function sumRaw(rs: RawWindow[]): RawWindow {
  const out: RawWindow = { deliveries: 0, elapsedUs: 0, cpuUs: 0, userUs: 0, sysUs: 0, serverSent: 0, serverPings: 0, serverElapsedUs: 0, serverCpuUs: 0, otherBusyUs: 0, gcCount: 0, gcUs: 0, allocBytes: 0 };
  for (const r of rs) for (const k of Object.keys(out) as Array<keyof RawWindow>) out[k] += r[k];
  return out;
}

export interface CpuResult {
  variant: string;
  label: string;
  kind: Kind;
  work: Work;
  offeredPerS: number;
  /** Fixed offered rate, pooled over the interleaved rounds (total CPU / total deliveries). */
  fixed: Window;
  /** Each round's µs per delivery. */
  roundsUsPerDelivery: number[];
  /** Each round's user and system µs per delivery. */
  roundsUserSysUs: Array<[number, number]>;
  /** Max receive rate per core at this cost: 1e6 / fixed.usPerDelivery deliveries/s. */
  perCore: number;
  /** The profiled window after the rounds: self time by category, per delivery (null: not profiled). */
  profile: Breakdown | null;
}

async function measureWindow(client: Child, server: Child, ms: number): Promise<RawWindow> {
  const busy0 = machineBusyUs();
  const wall0 = performance.now();
  const self0 = process.cpuUsage();
  client.post({ type: 'mark' });
  server.post({ type: 'mark' });
  const a = await client.next('mark', 10_000);
  const sa = await server.next('mark', 10_000);
  await sleep(ms);
  client.post({ type: 'mark' });
  server.post({ type: 'mark' });
  const b = await client.next('mark', 10_000);
  const sb = await server.next('mark', 10_000);
  const busy1 = machineBusyUs();
  const wallUs = (performance.now() - wall0) * 1000;
  const self = process.cpuUsage(self0);
  const n = (m: Msg, k: string) => m[k] as number;
  const ours = n(b, 'cpuUs') - n(a, 'cpuUs') + n(sb, 'cpuUs') - n(sa, 'cpuUs') + self.user + self.system;
  const gc = (b.gc as GcWindow | null) ?? { gcCount: 0, gcUs: 0, allocBytes: 0 };
  return {
    // The machine's busy time is read over the orchestrator's wall window (it includes the marks'
    // round trips), so the other processes' share is taken over that window, scaled to the client's.
    otherBusyUs: busy0 === null || busy1 === null ? 0 : (Math.max(0, busy1 - busy0 - ours) * (n(b, 'atUs') - n(a, 'atUs'))) / wallUs,
    deliveries: n(b, 'received') - n(a, 'received'),
    elapsedUs: n(b, 'atUs') - n(a, 'atUs'),
    cpuUs: n(b, 'cpuUs') - n(a, 'cpuUs'),
    userUs: n(b, 'userUs') - n(a, 'userUs'),
    sysUs: n(b, 'sysUs') - n(a, 'sysUs'),
    serverSent: n(sb, 'sent') - n(sa, 'sent'),
    serverPings: (n(sb, 'pings') ?? 0) - (n(sa, 'pings') ?? 0),
    serverElapsedUs: n(sb, 'atUs') - n(sa, 'atUs'),
    serverCpuUs: n(sb, 'cpuUs') - n(sa, 'cpuUs'),
    gcCount: gc.gcCount,
    gcUs: gc.gcUs,
    allocBytes: gc.allocBytes,
  };
}

interface Rig {
  variant: string;
  label: string;
  kind: Kind;
  work: Work;
  server: Child;
  client: Child;
}

async function profileWindow(rig: Rig): Promise<Breakdown> {
  rig.server.post({ type: 'fixed', rate: CPU_BROADCASTS_PER_S });
  await sleep(CPU_SETTLE_MS);
  rig.client.post({ type: 'prof-start' });
  await rig.client.next('prof-started', 10_000);
  await sleep(PROFILE_MS);
  rig.client.post({ type: 'prof-stop' });
  const m = await rig.client.next('profile', 30_000);
  rig.server.post({ type: 'stop' });
  await rig.server.next('stopped', 10_000);
  return m.breakdown as Breakdown;
}

/**
 * `variants`: [name, kind, work, label, profile it, node flags of the receiving process, its bench
 * entry point (another build's, BENCH_BASELINE; default this build's)].
 */
export async function cpuBench(variants: Array<[string, Kind, Work, string, boolean, string[]?, string?]>): Promise<Record<string, CpuResult>> {
  const rigs: Rig[] = [];
  try {
    for (const [variant, kind, work, label, , flags, entry] of variants) {
      const { server, port } = await startServer(serverFor(kind), CPU_ROOMS);
      // BENCH_CPU_PROF=<dir>: also a whole-process profile of the receiving processes (node --cpu-prof).
      const prof = process.env.BENCH_CPU_PROF;
      const client = new Child(
        `${variant}-cpu-client`,
        ['--role', 'client', '--kind', kind, '--work', work, '--mode', 'cpu', '--port', String(port)],
        [...(flags ?? []), ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof, '--cpu-prof-name', `${variant}.cpuprofile`] : [])],
        entry,
      );
      rigs.push({ variant, label, kind, work, server, client });
      await client.next('ready', 60_000); // one at a time: connect storms stay apart
    }
    process.stderr.write(`  receive CPU: warm-up, then ${CPU_ROUNDS} interleaved rounds…\n`);
    for (const rig of rigs) {
      rig.server.post({ type: 'fixed', rate: CPU_BROADCASTS_PER_S });
      await sleep(CPU_WARMUP_MS);
      rig.server.post({ type: 'stop' });
      await rig.server.next('stopped', 10_000);
    }
    const rounds = new Map<string, RawWindow[]>(rigs.map((r) => [r.variant, []]));
    for (let round = 0; round < CPU_ROUNDS; round++) {
      for (let k = 0; k < rigs.length; k++) {
        const rig = rigs[(k + round) % rigs.length];
        rig.server.post({ type: 'fixed', rate: CPU_BROADCASTS_PER_S });
        await sleep(CPU_SETTLE_MS);
        rounds.get(rig.variant)!.push(await measureWindow(rig.client, rig.server, CPU_MEASURE_MS));
        rig.server.post({ type: 'stop' });
        await rig.server.next('stopped', 10_000);
      }
    }
    const profiles = new Map<string, Breakdown>();
    const wanted = new Set(variants.filter((v) => v[4]).map((v) => v[0]));
    if (wanted.size > 0) process.stderr.write(`  receive CPU: one profiled window each for ${[...wanted].join(', ')}…\n`);
    for (const rig of rigs) if (wanted.has(rig.variant)) profiles.set(rig.variant, await profileWindow(rig));
    const out: Record<string, CpuResult> = {};
    for (const rig of rigs) {
      const rs = rounds.get(rig.variant)!;
      const fixed = derive(sumRaw(rs));
      out[rig.variant] = {
        variant: rig.variant,
        label: rig.label,
        kind: rig.kind,
        work: rig.work,
        offeredPerS: CPU_BROADCASTS_PER_S * (CPU_CONNS / CPU_ROOMS),
        fixed,
        roundsUsPerDelivery: rs.map((r) => derive(r).usPerDelivery),
        roundsUserSysUs: rs.map((r) => [r.userUs / Math.max(1, r.deliveries), r.sysUs / Math.max(1, r.deliveries)]),
        perCore: 1e6 / fixed.usPerDelivery,
        profile: profiles.get(rig.variant) ?? null,
      };
    }
    return out;
  } finally {
    for (const rig of rigs) {
      await rig.client.stop();
      await rig.server.stop();
    }
  }
}
