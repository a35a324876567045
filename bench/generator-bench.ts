/**
 * Generator benchmark (`npm run bench`) — a benchmark, not a test: it measures and prints, it
 * asserts nothing and exits 0 (2 only when the benchmark itself breaks).
 *
 * It compares, in one run on this machine:
 *   bare  — a bare `ws` client (`new WebSocket(url, {localAddress, perMessageDeflate:false})`)
 *           against a `ws` server, doing only `JSON.parse` of each frame;
 *   lean  — wsbench's lean Socket.IO client (load/sio-client.ts) against a socket.io 4 server,
 *           running the generator's receive path (as load/worker.ts runs it: the compiled reference
 *           protocol profile — load/profile.ts — finds the stamp, then the recorder: ledger,
 *           HDR records, per-second buckets, and the worker's 1 s tick);
 *   sioc  — socket.io-client against the same kind of server, with the same receive path.
 *
 * 1. Memory per idle connection: extra RSS (after forced GC) between MEM_N1 and MEM_N2
 *    connections, one client process per kind (--expose-gc), its server in another process.
 * 2. Receive CPU per delivery: process.cpuUsage() of the receiving process over windows at a fixed
 *    offered rate well below saturation (room broadcasts arrive as 100-frame bursts). The three
 *    variants are connected at once and measured in interleaved rounds, so a change in the rest
 *    of the machine's load hits them alike. Max receive rate per core = 1e6 / µs per delivery.
 * 3. An in-process breakdown (no sockets) of each path's per-message JavaScript work.
 *
 * Every process is a fork of this file (`--role …`); everything is on 127.0.0.1; clients bind
 * source addresses 127.0.x.y (load/source-address.ts) as the generator does. Results are printed
 * and written to bench/results/latest.json. BENCH_ONLY=mem,cpu:lean,micro,… runs a subset and
 * prints raw JSON; BENCH_CPU_PROF=<dir> writes a .cpuprofile per receiving process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { RawData } from 'ws';
import { nowUs } from '../common/clock.js';
import { DeliveryLedger } from '../load/delivery-ledger.js';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import { recordUs } from '../load/histogram-record.js';
import { ArrivalRecorder, type Payload } from '../load/arrival-recorder.js';
import { startSelfMonitor } from '../load/self-monitor.js';
import { compileProfile } from '../load/profile.js';
import { REFERENCE_PROFILES } from '../config/protocol.js';
import { sourceAddressFor } from '../load/source-address.js';
import type { SioClient as SioClientT } from '../load/sio-client.js';

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

const MEM_N1 = 5_000;
const MEM_N2 = 15_000;
/** RSS checkpoints: N1, then every (N2 − N1) / MEM_STEPS connections up to N2. */
const MEM_STEPS = 4;
const CONNECT_CONCURRENCY = 200;

const CPU_CONNS = 1_000;
const CPU_ROOMS = 10; // 100 members per room: every broadcast is a 100-frame burst
const CPU_BROADCASTS_PER_S = 200; // one room broadcast every 5 ms → 20,000 deliveries/s
/** Interleaved rounds: every variant measured once per round (see cpuBench). */
const CPU_ROUNDS = 8;
/** Before the rounds, every variant receives unmeasured for this long (JIT, caches, buffers). */
const CPU_WARMUP_MS = 1_500;
/** Before each measured window: the previous variant's last bursts drain, this one's timer settles. */
const CPU_SETTLE_MS = 300;
const CPU_MEASURE_MS = 1_500;
/** In-process breakdown: messages per timed loop (best of MICRO_REPEAT loops). */
const MICRO_N = 100_000;
const MICRO_REPEAT = 5;

const TARGET_MEM_KIB = 5;
/** Above this share of the machine used by other processes during the CPU windows, say so. */
const NOISY_OTHERS_PERCENT = 15;
const TARGET_CPU_RATIO = 1.2;
/** The issue's reference figures, measured on this machine. */
const REFERENCE = { bareMemKiB: 3.45, siocMemKiB: 13.8, siocCpuUs: '18–23' };

type Kind = 'bare' | 'lean' | 'sioc';
/** parse: JSON.parse only (bare); arrival: the worker's receive path; count: events only; ledger / hdr: one part of the receive path (investigation). */
type Work = 'parse' | 'arrival' | 'count' | 'ledger' | 'hdr';
type ServerKind = 'ws' | 'sio';

const INVESTIGATION = new Set(['lean-only', 'lean-ledger', 'lean-hdr']);
const SELF = fileURLToPath(import.meta.url);
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

const KIND_LABEL: Record<Kind, string> = {
  bare: 'bare ws',
  lean: 'wsbench lean client',
  sioc: 'socket.io-client',
};

function serverFor(kind: Kind): ServerKind {
  return kind === 'bare' ? 'ws' : 'sio';
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function send(msg: Record<string, unknown>): void {
  process.send?.(msg);
}

// ---------------------------------------------------------------------------------------------
// Server roles: a `ws` server (frames are JSON) and a socket.io 4 server (`msg` events), both
// dealing connections round-robin into rooms and broadcasting {room, payload:{pub, seq, t, n}}.
// ---------------------------------------------------------------------------------------------

async function serverRole(kind: ServerKind, rooms: number): Promise<void> {
  const http = createServer();
  const seq = new Array<number>(rooms).fill(0);
  let dealt = 0;
  let broadcast: (r: number) => number; // returns deliveries sent

  if (kind === 'ws') {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
    const members: Array<Set<import('ws').WebSocket>> = Array.from({ length: rooms }, () => new Set());
    const noop = () => undefined;
    wss.on('connection', (ws) => {
      const room = members[dealt++ % rooms];
      room.add(ws);
      ws.on('error', noop);
      ws.on('close', () => room.delete(ws));
    });
    broadcast = (r) => {
      const frame = Buffer.from(JSON.stringify({ room: `r${r}`, payload: { pub: r, seq: seq[r]++, t: nowUs(), n: `node-${1 + (r % 3)}` } }));
      for (const ws of members[r]) ws.send(frame, { binary: false });
      return members[r].size;
    };
  } else {
    const { Server } = await import('socket.io');
    const io = new Server(http, { transports: ['websocket'], serveClient: false });
    io.on('connection', (socket) => {
      void socket.join(`r${dealt++ % rooms}`);
    });
    broadcast = (r) => {
      const room = `r${r}`;
      io.to(room).emit('msg', { room, payload: { pub: r, seq: seq[r]++, t: nowUs(), n: `node-${1 + (r % 3)}` } });
      return io.sockets.adapter.rooms.get(room)?.size ?? 0;
    };
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  send({ type: 'listening', port: (http.address() as AddressInfo).port });

  let timer: NodeJS.Timeout | undefined;
  let sent = 0; // deliveries
  let nextRoom = 0;
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  process.on('message', (msg: { type: string; rate?: number }) => {
    switch (msg.type) {
      case 'fixed': {
        // One room broadcast every 1/rate s; a late timer catches up (the offered rate holds).
        stop();
        const intervalUs = 1e6 / msg.rate!;
        const start = nowUs();
        let done = 0;
        timer = setInterval(() => {
          const due = Math.floor((nowUs() - start) / intervalUs) + 1;
          for (; done < due; done++) {
            sent += broadcast(nextRoom);
            nextRoom = (nextRoom + 1) % rooms;
          }
        }, 1);
        return;
      }
      case 'stop':
        stop();
        send({ type: 'stopped', sent });
        return;
      case 'mark': {
        const cpu = process.cpuUsage();
        send({ type: 'mark', sent, atUs: nowUs(), cpuUs: cpu.user + cpu.system });
        return;
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The generator's receive path: the very ArrivalRecorder load/worker.ts uses (not a copy).
// ---------------------------------------------------------------------------------------------

interface ArrivalState {
  id: number;
  nodeId: string | null;
}

const recorder = new ArrivalRecorder();
const ledger = recorder.ledger;
const onArrival = (state: ArrivalState, data: unknown): void => recorder.onArrival(state, data);
/** The worker's receive path: the reference profile, compiled, reads the stamp and room of an event's arguments. */
const P = compileProfile(REFERENCE_PROFILES.socketio, 'bench');
const profileArrival = (state: ArrivalState, args: unknown): void => {
  const s = P.stamp(args);
  if (s !== undefined) recorder.onStamp(state, P.room!(args) as string | undefined, s);
};

/** Investigation: only the ledger part of the receive path. */
function ledgerOnly(state: ArrivalState, data: unknown): void {
  const p = (data as { payload?: Payload } | undefined)?.payload;
  if (!p || typeof p.seq !== 'number') return;
  ledger.record(state.id, p.pub, p.seq);
}

/** Investigation: only the clock and HDR part of the receive path (two records, as the recorder does). */
const hdrBucket = { same: createLatencyHistogram(), cross: createLatencyHistogram() };
function hdrOnly(state: ArrivalState, data: unknown): void {
  const now = nowUs();
  const p = (data as { payload?: Payload } | undefined)?.payload;
  if (!p || typeof p.seq !== 'number') return;
  const lat = now - p.t;
  recordUs(p.n !== state.nodeId ? hdrBucket.cross : hdrBucket.same, lat);
  recordUs(recorder.second, lat);
}

/** The worker's 1 s tick: the same self-monitor, and the recorder's per-second histogram. */
function startWorkerTicks(connections: () => number): NodeJS.Timeout {
  return startSelfMonitor(({ cpuPercent, lagP99Ms }) => {
    send({ type: 'tick', atUs: nowUs(), ...recorder.takeSecond(), connections: connections(), cpuPercent, lagP99Ms });
  });
}

// ---------------------------------------------------------------------------------------------
// Client role
// ---------------------------------------------------------------------------------------------

let received = 0;

function onBareMessage(data: RawData): void {
  JSON.parse((data as Buffer).toString());
  received++;
}
function ignore(): void {
  // shared no-op listener
}

interface Conn {
  close(): void;
}

async function clientRole(kind: Kind, work: Work, mode: 'mem' | 'cpu', port: number): Promise<void> {
  const url = `http://127.0.0.1:${port}`;
  let open: (i: number) => Promise<Conn>;
  const conns: Conn[] = [];

  if (kind === 'bare') {
    const { default: WebSocket } = await import('ws');
    open = (i) =>
      new Promise<Conn>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { localAddress: sourceAddressFor(i), perMessageDeflate: false });
        const onErr = (e: Error) => reject(e);
        ws.once('error', onErr);
        ws.once('open', () => {
          ws.off('error', onErr);
          ws.on('error', ignore);
          if (work === 'parse') ws.on('message', onBareMessage);
          resolve(ws);
        });
      });
  } else if (kind === 'lean') {
    const { SioClient } = await import('../load/sio-client.js');
    open = async (i) => {
      // What load/worker.ts holds per client: a state object, an onEvent and an onClose closure.
      const state: ArrivalState & { localAddress: string; closed: boolean } = { id: i, nodeId: `node-${1 + (i % 3)}`, localAddress: sourceAddressFor(i), closed: false };
      const client = await SioClient.connect({ url, auth: { token: 'bench' }, fullArgs: true, localAddress: state.localAddress });
      const first = (f: (s: ArrivalState, d: unknown) => void) => (s: ArrivalState, args: unknown) => f(s, (args as unknown[])[1]);
      const part = work === 'ledger' ? first(ledgerOnly) : work === 'hdr' ? first(hdrOnly) : profileArrival;
      client.onEvent =
        work === 'count'
          ? (event, data) => {
              if (P.isMessage(event, data)) received++;
            }
          : (event, data) => {
              if (P.isMessage(event, data)) {
                received++;
                part(state, data);
              }
            };
      client.onClose = () => {
        state.closed = true;
      };
      return client;
    };
  } else {
    const { io } = await import('socket.io-client');
    open = (i) =>
      new Promise<Conn>((resolve, reject) => {
        const state: ArrivalState = { id: i, nodeId: `node-${1 + (i % 3)}` };
        const socket = io(url, {
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
          localAddress: sourceAddressFor(i),
        } as Parameters<typeof io>[1]);
        socket.once('connect', () => {
          socket.off('connect_error');
          resolve({ close: () => socket.disconnect() });
        });
        socket.once('connect_error', (e) => reject(e));
        if (work === 'arrival')
          socket.on('msg', (data: unknown) => {
            received++;
            onArrival(state, data);
          });
        else if (work === 'count') socket.on('msg', () => received++);
      });
  }

  async function connectRange(from: number, to: number): Promise<void> {
    let next = from;
    const errors: string[] = [];
    const lane = async () => {
      while (next < to) {
        const i = next++;
        try {
          conns.push(await open(i));
        } catch (e) {
          errors.push(e instanceof Error ? e.message : String(e));
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, lane));
    if (errors.length > 0) throw new Error(`${errors.length} of ${to - from} connections failed, e.g. ${errors[0]}`);
  }

  const gc = (globalThis as { gc?: () => void }).gc;
  async function settledMemory(): Promise<NodeJS.MemoryUsage> {
    for (let k = 0; k < 4; k++) {
      await sleep(150);
      gc?.();
    }
    await sleep(150);
    gc?.();
    const spaces = Object.fromEntries((await import('node:v8')).getHeapSpaceStatistics().map((x) => [x.space_name, Math.round(x.physical_space_size / 1024)]));
    return { ...process.memoryUsage(), spaces } as NodeJS.MemoryUsage;
  }

  if (mode === 'mem') {
    // Checkpoints every (N2 − N1) / MEM_STEPS connections from N1 to N2; the slope is fitted over all.
    const points: Array<{ n: number; m: NodeJS.MemoryUsage }> = [];
    let connectMs = 0;
    for (let k = 0; k <= MEM_STEPS; k++) {
      const target = MEM_N1 + Math.round(((MEM_N2 - MEM_N1) * k) / MEM_STEPS);
      const t0 = Date.now();
      await connectRange(conns.length, target);
      connectMs += Date.now() - t0;
      points.push({ n: conns.length, m: await settledMemory() });
    }
    send({ type: 'mem', points, connectRatePerS: Math.round((conns.length * 1000) / connectMs), gc: gc !== undefined });
    return;
  }

  // cpu mode
  await connectRange(0, CPU_CONNS);
  recorder.measureFromUs = nowUs();
  if (work === 'arrival') startWorkerTicks(() => conns.length);
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'mark') {
      const cpu = process.cpuUsage();
      send({ type: 'mark', cpuUs: cpu.user + cpu.system, userUs: cpu.user, sysUs: cpu.system, atUs: nowUs(), received });
    }
  });
  send({ type: 'ready', connections: conns.length });
}

// ---------------------------------------------------------------------------------------------
// In-process breakdown (role "micro"): the per-message work of each receive path on pre-built
// frames, no sockets, best of MICRO_REPEAT loops — what costs what, without network noise.
// ---------------------------------------------------------------------------------------------

interface MicroResult {
  /** µs per message. */
  bareParse: number;
  leanParse: number | null;
  onArrival: number;
  leanTotal: number | null;
  nowUs: number;
  ledgerRecord: number;
  recordUs: number;
  /** ms per call of the worker's tick (encodeHistogram of one second's histogram at the offered rate). */
  tickEncodeMs: number;
}

async function microRole(): Promise<void> {
  const { SioClient } = await import('../load/sio-client.js');
  const membersPerRoom = CPU_CONNS / CPU_ROOMS;
  const broadcasts = MICRO_N / membersPerRoom;
  let round = 0;
  /** Frames of one loop: fresh seqs every loop (a repeated seq would be a duplicate in the ledger). */
  const frames = () => {
    const bare: Buffer[] = [];
    const lean: Buffer[] = [];
    const data: unknown[] = [];
    for (let b = 0; b < broadcasts; b++) {
      const r = b % CPU_ROOMS;
      const d = { room: `r${r}`, payload: { pub: r, seq: round * broadcasts + b, t: nowUs(), n: `node-${1 + (r % 3)}` } };
      bare.push(Buffer.from(JSON.stringify(d)));
      lean.push(Buffer.from(`42${JSON.stringify(['msg', d])}`));
      data.push(d);
    }
    round++;
    return { bare, lean, data };
  };
  const cpuNow = () => {
    const c = process.cpuUsage();
    return c.user + c.system;
  };
  /** Best (lowest) µs per message over MICRO_REPEAT loops of MICRO_N messages. */
  const time = (body: (f: ReturnType<typeof frames>) => void): number => {
    let best = Infinity;
    for (let k = 0; k < MICRO_REPEAT; k++) {
      const f = frames();
      const t0 = cpuNow();
      body(f);
      best = Math.min(best, (cpuNow() - t0) / MICRO_N);
    }
    return best;
  };
  // Message i of a loop: broadcast floor(i / membersPerRoom), to member i % membersPerRoom of its room.
  const receiverOf = (b: number, m: number) => (b % CPU_ROOMS) + CPU_ROOMS * m;
  const states: ArrivalState[] = Array.from({ length: CPU_CONNS }, (_, id) => ({ id, nodeId: `node-${1 + (id % 3)}` }));
  recorder.measureFromUs = nowUs();
  let sink = 0;

  const bareParse = time((f) => {
    for (let i = 0; i < MICRO_N; i++) sink += (JSON.parse(f.bare[(i / membersPerRoom) | 0].toString()) as { payload: { seq: number } }).payload.seq;
  });

  // The real SioClient parsing path: handleMessage → onText → onSocketIoPacket → onEvent, on a
  // client object in the CONNECTED state (private fields set directly: a bench, not an API).
  let events = 0;
  let current: ArrivalState = states[0];
  const makeClient = (onEvent: (event: string, data: unknown) => void) => {
    const c = Object.create(SioClient.prototype) as Record<string, unknown>;
    Object.assign(c, { state: 1, early: null, _onEvent: onEvent, acks: null, pending: null, token: null, fullArgs: true, _sid: 'x', unreportedClose: null, csr: null, upstream: null });
    return c as unknown as SioClientT;
  };
  const counting = makeClient(() => events++);
  const arriving = makeClient((event, data) => {
    if (P.isMessage(event, data)) {
      events++;
      profileArrival(current, data);
    }
  });
  const leanLoop = (client: SioClientT) => (f: ReturnType<typeof frames>) => {
    for (let i = 0; i < MICRO_N; i++) {
      const b = (i / membersPerRoom) | 0;
      current = states[receiverOf(b, i % membersPerRoom)];
      SioClient.handleMessage(client, f.lean[b], false);
    }
  };
  events = 0;
  let leanParse: number | null = time(leanLoop(counting));
  if (events !== MICRO_N * MICRO_REPEAT) leanParse = null; // SioClient internals changed
  events = 0;
  let leanTotal: number | null = time(leanLoop(arriving));
  if (events !== MICRO_N * MICRO_REPEAT) leanTotal = null;

  const onArrivalUs = time((f) => {
    for (let i = 0; i < MICRO_N; i++) {
      const b = (i / membersPerRoom) | 0;
      onArrival(states[receiverOf(b, i % membersPerRoom)], f.data[b]);
    }
  });
  const nowUsCost = time(() => {
    for (let i = 0; i < MICRO_N; i++) sink += nowUs();
  });
  const scratchLedger = new DeliveryLedger();
  const ledgerRecord = time((f) => {
    for (let i = 0; i < MICRO_N; i++) {
      const b = (i / membersPerRoom) | 0;
      const p = (f.data[b] as { payload: Payload }).payload;
      scratchLedger.record(receiverOf(b, i % membersPerRoom), p.pub, p.seq);
    }
  });
  const h = createLatencyHistogram();
  const recordUsCost = time(() => {
    for (let i = 0; i < MICRO_N; i++) recordUs(h, 800 + (i % 5000));
  });
  // The tick encodes one second's histogram: CPU_BROADCASTS_PER_S × members samples.
  const perSecondSamples = CPU_BROADCASTS_PER_S * membersPerRoom;
  let tickEncodeMs = Infinity;
  for (let k = 0; k < MICRO_REPEAT; k++) {
    const hs = createLatencyHistogram();
    for (let i = 0; i < perSecondSamples; i++) recordUs(hs, 500 + ((i * 7919) % 20_000));
    const t0 = cpuNow();
    sink += encodeHistogram(hs).length;
    tickEncodeMs = Math.min(tickEncodeMs, (cpuNow() - t0) / 1000);
  }
  const result: MicroResult = { bareParse, leanParse, onArrival: onArrivalUs, leanTotal, nowUs: nowUsCost, ledgerRecord, recordUs: recordUsCost, tickEncodeMs };
  send({ type: 'micro', result, sink });
}

// ---------------------------------------------------------------------------------------------
// Orchestrator
// ---------------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();

interface Msg {
  type: string;
  [k: string]: unknown;
}

/** A child process with a typed mailbox. */
class Child {
  readonly proc: ChildProcess;
  private queue: Msg[] = [];
  private waiters: Array<{ type: string; resolve: (m: Msg) => void }> = [];
  private exited: string | null = null;
  private failWaiters: Array<(e: Error) => void> = [];

  constructor(readonly name: string, args: string[], execArgv: string[] = []) {
    this.proc = fork(SELF, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(this.proc);
    this.proc.on('message', (m: Msg) => {
      const w = this.waiters.findIndex((x) => x.type === m.type);
      if (w >= 0) this.waiters.splice(w, 1)[0].resolve(m);
      else if (m.type !== 'tick') this.queue.push(m);
    });
    this.proc.on('exit', (code, signal) => {
      children.delete(this.proc);
      this.exited = `exited (code ${code}, signal ${signal})`;
      for (const f of this.failWaiters) f(new Error(`${this.name} ${this.exited}`));
      this.failWaiters = [];
    });
  }

  post(m: Msg): void {
    if (this.proc.connected) this.proc.send(m);
  }

  next(type: string, timeoutMs: number): Promise<Msg> {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.exited) return Promise.reject(new Error(`${this.name} ${this.exited} before "${type}"`));
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      this.failWaiters.push(fail);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          this.failWaiters = this.failWaiters.filter((f) => f !== fail);
          resolve(m);
        },
      });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
}

function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
}

async function startServer(kind: ServerKind, rooms: number): Promise<{ server: Child; port: number }> {
  const server = new Child(`${kind}-server`, ['--role', 'server', '--server', kind, '--rooms', String(rooms)]);
  const m = await server.next('listening', 15_000);
  return { server, port: m.port as number };
}

interface MemResult {
  kind: Kind;
  /** Extra RSS per connection: least-squares slope over the checkpoints from N1 to N2. */
  kibPerConn: number;
  /** (RSS at N2 − RSS at N1) / (N2 − N1), for comparison. */
  endpointsKibPerConn: number;
  heapKibPerConn: number;
  externalKibPerConn: number;
  /** RSS at each checkpoint. */
  rssMiB: number[];
  checkpoints: number[];
  connectRatePerS: number;
  /** V8 heap spaces' physical size at N1 and N2 (diagnostic). */
  v8SpacesKiB: Record<string, [number, number]>;
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

async function memPhase(kind: Kind): Promise<MemResult> {
  const { server, port } = await startServer(serverFor(kind), 1);
  const client = new Child(`${kind}-mem-client`, ['--role', 'client', '--kind', kind, '--work', 'none', '--mode', 'mem', '--port', String(port)], ['--expose-gc']);
  try {
    const m = await client.next('mem', 120_000);
    if (!m.gc) throw new Error('client ran without --expose-gc');
    const points = m.points as Array<{ n: number; m: NodeJS.MemoryUsage & { spaces: Record<string, number> } }>;
    const first = points[0].m;
    const last = points[points.length - 1].m;
    const n = points[points.length - 1].n - points[0].n;
    const slopeKiB = (f: (x: NodeJS.MemoryUsage) => number) => slope(points.map((p) => [p.n, f(p.m)])) / 1024;
    return {
      kind,
      kibPerConn: slopeKiB((x) => x.rss),
      endpointsKibPerConn: (last.rss - first.rss) / n / 1024,
      heapKibPerConn: slopeKiB((x) => x.heapUsed),
      externalKibPerConn: slopeKiB((x) => x.external),
      rssMiB: points.map((p) => Math.round((p.m.rss / 2 ** 20) * 10) / 10),
      checkpoints: points.map((p) => p.n),
      connectRatePerS: m.connectRatePerS as number,
      v8SpacesKiB: Object.fromEntries(Object.entries(first.spaces).map(([k, v]) => [k, [v, last.spaces[k]]])),
    };
  } finally {
    await client.stop();
    await server.stop();
  }
}

/** Raw sums over a measured window (receiving process, and the server feeding it). */
interface RawWindow {
  deliveries: number;
  elapsedUs: number;
  cpuUs: number;
  userUs: number;
  sysUs: number;
  serverSent: number;
  serverElapsedUs: number;
  serverCpuUs: number;
  /** CPU time the rest of the machine (other processes) used during the window. */
  otherBusyUs: number;
}

interface Window {
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
  serverCpuPercent: number;
  /** Other processes' CPU use during the window, % of the whole machine (all cores). */
  otherCpuPercent: number;
}

function derive(r: RawWindow): Window {
  const d = Math.max(1, r.deliveries);
  return {
    deliveries: r.deliveries,
    perSec: (r.deliveries * 1e6) / r.elapsedUs,
    cpuPercent: (r.cpuUs / r.elapsedUs) * 100,
    usPerDelivery: r.cpuUs / d,
    userUsPerDelivery: r.userUs / d,
    sysUsPerDelivery: r.sysUs / d,
    serverSentPerSec: (r.serverSent * 1e6) / r.serverElapsedUs,
    serverCpuPercent: (r.serverCpuUs / r.serverElapsedUs) * 100,
    otherCpuPercent: (r.otherBusyUs / r.elapsedUs / os.cpus().length) * 100,
  };
}

function sumRaw(rs: RawWindow[]): RawWindow {
  const out: RawWindow = { deliveries: 0, elapsedUs: 0, cpuUs: 0, userUs: 0, sysUs: 0, serverSent: 0, serverElapsedUs: 0, serverCpuUs: 0, otherBusyUs: 0 };
  for (const r of rs) for (const k of Object.keys(out) as Array<keyof RawWindow>) out[k] += r[k];
  return out;
}

interface CpuResult {
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
}

/** Busy CPU time of the whole machine (all cores) in µs, from /proc/stat; null if unreadable. */
function machineBusyUs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …; busy = all but idle and iowait.
    const busy = f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3] - f[4];
    return (busy * 1e6) / 100; // USER_HZ
  } catch {
    return null;
  }
}

async function measureWindow(client: Child, server: Child, ms: number): Promise<RawWindow> {
  const busy0 = machineBusyUs();
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
  const self = process.cpuUsage(self0);
  const n = (m: Msg, k: string) => m[k] as number;
  const ours = n(b, 'cpuUs') - n(a, 'cpuUs') + n(sb, 'cpuUs') - n(sa, 'cpuUs') + self.user + self.system;
  return {
    otherBusyUs: busy0 === null || busy1 === null ? 0 : Math.max(0, busy1 - busy0 - ours),
    deliveries: n(b, 'received') - n(a, 'received'),
    elapsedUs: n(b, 'atUs') - n(a, 'atUs'),
    cpuUs: n(b, 'cpuUs') - n(a, 'cpuUs'),
    userUs: n(b, 'userUs') - n(a, 'userUs'),
    sysUs: n(b, 'sysUs') - n(a, 'sysUs'),
    serverSent: n(sb, 'sent') - n(sa, 'sent'),
    serverElapsedUs: n(sb, 'atUs') - n(sa, 'atUs'),
    serverCpuUs: n(sb, 'cpuUs') - n(sa, 'cpuUs'),
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

/**
 * Every variant gets its own server and receiving process, all connected up front; the measured
 * windows are interleaved (round r: every variant once, rotating the order), so a change in what
 * else runs on the machine hits every variant alike instead of one of them.
 */
async function cpuBench(variants: Array<[string, Kind, Work, string]>): Promise<Record<string, CpuResult>> {
  const rigs: Rig[] = [];
  try {
    for (const [variant, kind, work, label] of variants) {
      const { server, port } = await startServer(serverFor(kind), CPU_ROOMS);
      // BENCH_CPU_PROF=<dir>: profile the receiving processes (node --cpu-prof), for investigation.
      const prof = process.env.BENCH_CPU_PROF;
      const client = new Child(
        `${variant}-cpu-client`,
        ['--role', 'client', '--kind', kind, '--work', work, '--mode', 'cpu', '--port', String(port)],
        prof ? ['--cpu-prof', '--cpu-prof-dir', prof, '--cpu-prof-name', `${variant}.cpuprofile`] : [],
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

function versionOf(pkg: string): string {
  try {
    const p = fileURLToPath(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url));
    return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const f1 = (x: number) => x.toFixed(1);
function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const mid = a.length >> 1;
  return a.length % 2 === 1 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
}
const f2 = (x: number) => x.toFixed(2);
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

async function orchestrate(): Promise<void> {
  const started = Date.now();
  const cpus = os.cpus();
  const machine = {
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
  process.stderr.write(`generator bench: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load average ${f2(machine.loadAvgAtStart)}\n`);

  // BENCH_ONLY=cpu,mem:lean … runs a subset (for investigation; ratios need the full set).
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (phase: string) => only === undefined || only.includes(phase) || only.includes(phase.split(':')[0]);
  const memory: Partial<Record<Kind, MemResult>> = {};
  for (const kind of ['bare', 'lean', 'sioc'] as const) {
    if (!want(`mem:${kind}`)) continue;
    process.stderr.write(`  memory: ${KIND_LABEL[kind]}, ${int(MEM_N1)} → ${int(MEM_N2)} idle connections…\n`);
    memory[kind] = await memPhase(kind);
  }
  const variants = (
    [
      ['bare', 'bare', 'parse', 'bare ws + JSON.parse'],
      ['lean', 'lean', 'arrival', 'lean client + receive path'],
      ['sioc', 'sioc', 'arrival', 'socket.io-client + receive path'],
      // Investigation only (BENCH_ONLY=cpu:lean-only,…): the lean client without / with parts of the receive path.
      ['lean-only', 'lean', 'count', 'lean client, events only'],
      ['lean-ledger', 'lean', 'ledger', 'lean client + ledger only'],
      ['lean-hdr', 'lean', 'hdr', 'lean client + clock & HDR only'],
    ] as Array<[string, Kind, Work, string]>
  ).filter(([name]) => (INVESTIGATION.has(name) ? only?.includes(`cpu:${name}`) === true : want(`cpu:${name}`)));
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
  if (only !== undefined) {
    process.stdout.write(JSON.stringify({ machine, memory, cpu, micro }, null, 2) + '\n');
    return;
  }
  const m = micro!;

  const mem = memory as Record<Kind, MemResult>;
  const perRound = (a: string, b: string) => cpu[a].roundsUsPerDelivery.map((x, i) => x / cpu[b].roundsUsPerDelivery[i]);
  const ratios = {
    leanBareMemory: mem.lean.kibPerConn / mem.bare.kibPerConn,
    siocBareMemory: mem.sioc.kibPerConn / mem.bare.kibPerConn,
    leanBareCpu: cpu.lean.fixed.usPerDelivery / cpu.bare.fixed.usPerDelivery,
    leanBareCpuPerRound: perRound('lean', 'bare'),
    leanBareCpuMedianOfRounds: median(perRound('lean', 'bare')),
    siocBareCpu: cpu.sioc.fixed.usPerDelivery / cpu.bare.fixed.usPerDelivery,
    siocBareCpuPerRound: perRound('sioc', 'bare'),
    siocBareCpuMedianOfRounds: median(perRound('sioc', 'bare')),
  };
  const verdicts = [
    {
      target: `lean client memory per idle connection <= ${TARGET_MEM_KIB} KiB`,
      actual: mem.lean.kibPerConn,
      unit: 'KiB',
      pass: mem.lean.kibPerConn <= TARGET_MEM_KIB,
    },
    {
      target: `lean client CPU per delivery <= ${TARGET_CPU_RATIO}x bare ws + JSON.parse`,
      actual: ratios.leanBareCpu,
      unit: 'x',
      pass: ratios.leanBareCpu <= TARGET_CPU_RATIO,
    },
  ];

  // ---- print ----
  const range = (xs: number[]) => `${f1(Math.min(...xs))}–${f1(Math.max(...xs))}`;
  const out: string[] = [];
  out.push('');
  out.push(`Generator benchmark — ${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemGiB} GiB, Node ${machine.node}, ws ${machine.versions.ws}, socket.io ${machine.versions['socket.io']}, socket.io-client ${machine.versions['socket.io-client']}`);
  out.push('');
  out.push(
    `Memory per idle connection: extra RSS from ${int(MEM_N1)} to ${int(MEM_N2)} connections (slope over ${MEM_STEPS + 1} checkpoints), after forced GC, one process per client kind`,
  );
  out.push(`  ${pad('client', 22)}${lpad('KiB/conn', 9)}${lpad('N1→N2 only', 12)}${lpad('heap KiB/conn', 15)}${lpad('RSS MiB', 13)}${lpad('connects/s', 12)}`);
  for (const kind of ['bare', 'lean', 'sioc'] as const) {
    const m = mem[kind];
    out.push(
      `  ${pad(KIND_LABEL[kind], 22)}${lpad(f2(m.kibPerConn), 9)}${lpad(f2(m.endpointsKibPerConn), 12)}${lpad(f2(m.heapKibPerConn), 15)}` +
        `${lpad(`${Math.round(m.rssMiB[0])} → ${Math.round(m.rssMiB[m.rssMiB.length - 1])}`, 13)}${lpad(int(m.connectRatePerS), 12)}`,
    );
  }
  out.push('');
  out.push(
    `Receive CPU per delivery: ${int(CPU_CONNS)} connections, ${CPU_ROOMS} rooms × ${CPU_CONNS / CPU_ROOMS}, a room broadcast every ${1000 / CPU_BROADCASTS_PER_S} ms ` +
      `(${int(cpu.bare.offeredPerS)} deliveries/s offered), ${CPU_ROUNDS} interleaved rounds × ${CPU_MEASURE_MS / 1000} s, pooled; cpuUsage of the receiving process`,
  );
  out.push(`  ${pad('client', 32)}${lpad('µs/delivery', 12)}${lpad('user+sys', 10)}${lpad('rounds', 11)}${lpad('recv/s', 9)}${lpad('CPU %', 7)}${lpad('max/s per core', 16)}${lpad('others %', 10)}`);
  for (const [name] of variants) {
    const c = cpu[name];
    out.push(
      `  ${pad(c.label, 32)}${lpad(f2(c.fixed.usPerDelivery), 12)}${lpad(`${f1(c.fixed.userUsPerDelivery)}+${f1(c.fixed.sysUsPerDelivery)}`, 10)}${lpad(range(c.roundsUsPerDelivery), 11)}` +
        `${lpad(int(c.fixed.perSec), 9)}${lpad(f1(c.fixed.cpuPercent), 7)}${lpad(int(c.perCore), 16)}${lpad(f1(c.fixed.otherCpuPercent), 10)}`,
    );
  }
  out.push(`  (max/s per core = 1e6 / µs per delivery: what one fully used core receives at that cost — the server shares this box, so the receiver cannot be driven`);
  out.push(`   to saturation here; others % = CPU the machine's other processes used during the windows, % of all ${machine.cpus} cores)`);
  out.push('');
  const na = (x: number | null) => (x === null ? 'n/a' : f2(x));
  const tickUs = (m.tickEncodeMs * 1000) / cpu.bare.offeredPerS;
  out.push(`In-process cost per message (same frames, no sockets; best of ${MICRO_REPEAT} × ${int(MICRO_N)}), µs`);
  out.push(`  bare: Buffer → string → JSON.parse                               ${lpad(f2(m.bareParse), 6)}`);
  out.push(`  lean: SioClient.handleMessage → onEvent (Engine.IO/Socket.IO + parse) ${lpad(na(m.leanParse), 6)}`);
  out.push(`  receive path: ArrivalRecorder.onArrival (nowUs, ledger, 2 HDR records) ${lpad(f2(m.onArrival), 6)}   of which nowUs ${f2(m.nowUs)}, ledger.record ${f2(m.ledgerRecord)}, recordUs ${f2(m.recordUs)} each`);
  out.push(`  lean total: handleMessage → onArrival                            ${lpad(na(m.leanTotal), 6)}   worker tick: encodeHistogram ${f2(m.tickEncodeMs)} ms/s = ${f2(tickUs)} µs/delivery at ${int(cpu.bare.offeredPerS)}/s`);
  out.push(`  the rest of each delivery (socket read, ws frame parsing, event loop): ≈ ${f1(cpu.bare.fixed.usPerDelivery - m.bareParse)} µs (bare) / ${m.leanTotal === null ? 'n/a' : f1(cpu.lean.fixed.usPerDelivery - m.leanTotal - tickUs)} µs (lean)`);
  out.push('');
  out.push('Ratios');
  out.push(`  memory  lean/bare ${f2(ratios.leanBareMemory)}×   socket.io-client/bare ${f2(ratios.siocBareMemory)}×`);
  const spread = (xs: number[]) => `median of rounds ${f2(median(xs))}, range ${f2(Math.min(...xs))}–${f2(Math.max(...xs))}`;
  out.push(`  CPU     lean/bare ${f2(ratios.leanBareCpu)}× (${spread(ratios.leanBareCpuPerRound)})`);
  out.push(`          socket.io-client/bare ${f2(ratios.siocBareCpu)}× (${spread(ratios.siocBareCpuPerRound)})`);
  out.push(`  issue's reference figures on this machine: bare ws ${REFERENCE.bareMemKiB} KiB, socket.io-client ${REFERENCE.siocMemKiB} KiB and ${REFERENCE.siocCpuUs} µs per delivery`);
  out.push('');
  for (const v of verdicts) out.push(`  ${v.pass ? 'PASS' : 'MISS'}  ${v.target}: ${f2(v.actual)}${v.unit === 'x' ? '×' : ` ${v.unit}`}`);
  const durationS = (Date.now() - started) / 1000;
  out.push('');
  const others = Math.max(...variants.map(([name]) => cpu[name].fixed.otherCpuPercent));
  if (others > NOISY_OTHERS_PERCENT)
    out.push(
      `  NOISY  other processes used up to ${f1(others)} % of the machine during the CPU windows: per-delivery CPU depends on how frames batch per ` +
        `wake-up, which contention changes — rerun on a quiet machine before trusting the CPU figures`,
    );
  out.push(`(${f1(durationS)} s; load average ${f2(machine.loadAvgAtStart)} → ${f2(machine.loadAvgAtEnd)} on ${machine.cpus} CPUs; bench/results/latest.json)`);
  process.stdout.write(out.join('\n') + '\n');

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
          memory: { n1: MEM_N1, n2: MEM_N2, steps: MEM_STEPS, connectConcurrency: CONNECT_CONCURRENCY },
          cpu: {
            connections: CPU_CONNS,
            rooms: CPU_ROOMS,
            broadcastsPerS: CPU_BROADCASTS_PER_S,
            rounds: CPU_ROUNDS,
            warmupMs: CPU_WARMUP_MS,
            settleMs: CPU_SETTLE_MS,
            measureMs: CPU_MEASURE_MS,
            microMessages: MICRO_N,
            microRepeat: MICRO_REPEAT,
          },
        },
        memory: mem,
        cpu,
        micro: m,
        ratios,
        verdicts,
        noisy: others > NOISY_OTHERS_PERCENT,
        reference: REFERENCE,
      },
      null,
      2,
    ) + '\n',
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const role = arg('role');
  if (role === 'server') {
    process.on('disconnect', () => process.exit(0));
    await serverRole(arg('server') as ServerKind, Number(arg('rooms') ?? 1));
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
  try {
    await orchestrate();
  } finally {
    killAll();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  killAll();
  process.exit(2);
});
