/**
 * One client kind's memory-and-setup phase: its server (MEM_ROOMS rooms, pings every
 * MEM_PING_MS), then its receiving process (--expose-gc), which connects N1 with nobody sending
 * (setup CPU per connection), then on to N2 in steps; at each checkpoint the server broadcasts
 * once to every room and the client reports memory after forced GC once all of it arrived.
 */
import os from 'node:os';
import { Child, startServer } from './child.js';
import type { Breakdown } from './profile-breakdown.js';
import { MEM_PING_MS, MEM_ROOMS, MEM_STEPS, serverFor, type Kind } from './config.js';

export interface MemResult {
  kind: Kind;
  /** Extra RSS per connection under load: least-squares slope over the checkpoints from N1 to N2. */
  kibPerConn: number;
  /** (RSS at N2 − RSS at N1) / (N2 − N1), for comparison. */
  endpointsKibPerConn: number;
  heapKibPerConn: number;
  externalKibPerConn: number;
  /** RSS at each checkpoint. */
  rssMiB: number[];
  checkpoints: number[];
  connectRatePerS: number;
  /** Deliveries the process had received by the last checkpoint (the load was on). */
  received: number;
  /** V8 heap spaces' physical size at N1 and N2 (diagnostic). */
  v8SpacesKiB: Record<string, [number, number]>;
  setup: SetupResult;
  /** Self time of 1,000 more connections under the profiler, per connection (not part of the figures). */
  setupProfile: Breakdown;
}

export interface SetupResult {
  connections: number;
  /** The receiving process's CPU per connection set up (user + system), µs. */
  cpuUsPerConn: number;
  connectsPerS: number;
  /** The server's CPU per connection (not part of the goal: shown for scale). */
  serverCpuUsPerConn: number;
  /** Other processes' CPU use while connecting, % of the whole machine; null when /proc/stat is unreadable. */
  otherCpuPercent: number | null;
}

/** Least-squares slope of y over x. */
function slope(xy: Array<[number, number]>): number {
  const n = xy.length;
  const mx = xy.reduce((a, [x]) => a + x, 0) / n;
  const my = xy.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of xy) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

export async function memPhase(kind: Kind): Promise<MemResult> {
  const { server, port } = await startServer(serverFor(kind), MEM_ROOMS, MEM_PING_MS);
  server.post({ type: 'mark' });
  const s0 = await server.next('mark', 10_000);
  const work = kind === 'bare' ? 'parse' : 'arrival';
  const client = new Child(`${kind}-mem-client`, ['--role', 'client', '--kind', kind, '--work', work, '--mode', 'mem', '--port', String(port)], ['--expose-gc']);
  try {
    const s = await client.next('setup', 120_000);
    server.post({ type: 'mark' });
    const s1 = await server.next('mark', 10_000);
    for (let k = 0; k <= MEM_STEPS; k++) {
      await client.next('checkpoint', 120_000);
      server.post({ type: 'sweep' });
      const swept = await server.next('swept', 30_000);
      client.post({ type: 'settle', expect: swept.deliveries as number });
    }
    const m = await client.next('mem', 60_000);
    if (!m.gc) throw new Error('client ran without --expose-gc');
    const points = m.points as Array<{ n: number; received: number; m: NodeJS.MemoryUsage & { spaces: Record<string, number> } }>;
    const first = points[0].m;
    const last = points[points.length - 1].m;
    const n = points[points.length - 1].n - points[0].n;
    const slopeKiB = (f: (x: NodeJS.MemoryUsage) => number) => slope(points.map((p) => [p.n, f(p.m)])) / 1024;
    const conns = s.connections as number;
    const clientCpu = s.cpuUs as number;
    const serverCpu = (s1.cpuUs as number) - (s0.cpuUs as number);
    const busy = s.machineBusyUs as number | null;
    return {
      kind,
      kibPerConn: slopeKiB((x) => x.rss),
      endpointsKibPerConn: (last.rss - first.rss) / n / 1024,
      heapKibPerConn: slopeKiB((x) => x.heapUsed),
      externalKibPerConn: slopeKiB((x) => x.external),
      rssMiB: points.map((p) => Math.round((p.m.rss / 2 ** 20) * 10) / 10),
      checkpoints: points.map((p) => p.n),
      connectRatePerS: m.connectRatePerS as number,
      setupProfile: m.setupProfile as Breakdown,
      received: points[points.length - 1].received,
      v8SpacesKiB: Object.fromEntries(Object.entries(first.spaces).map(([k, v]) => [k, [v, last.spaces[k]]])),
      setup: {
        connections: conns,
        cpuUsPerConn: clientCpu / conns,
        connectsPerS: (conns * 1e6) / (s.elapsedUs as number),
        serverCpuUsPerConn: serverCpu / conns,
        otherCpuPercent: busy === null ? null : (Math.max(0, busy - clientCpu - serverCpu) / (s.elapsedUs as number) / os.cpus().length) * 100,
      },
    };
  } finally {
    await client.stop();
    await server.stop();
  }
}
