/**
 * The bench's receiving process (`--role client`): one kind of client (bench/config.ts), its
 * connections, and the generator's receive path — the very ArrivalRecorder load/worker.ts uses,
 * reached through the compiled reference protocol profile as the worker reaches it.
 *
 * wsbench's clients connect as the worker's `dial` does: the profile's credentials (a JWT minted
 * per connection), connect, wait for `welcome`, join the room (acked). Bare ws only upgrades.
 *
 * mode `mem`: connects N1 while nobody sends (the setup CPU per connection, `process.cpuUsage` of
 * this process), says `setup`, connects up to N2 in steps (the server pings every connection) and
 * at each checkpoint has the server broadcast once to every room, then reports memory after
 * forced GC: the state of connections that hold a ledger stream and pings, not idle ones.
 * mode `cpu`: connects CPU_CONNS, says `ready`, answers `mark` (CPU, deliveries, GC window) and
 * `prof-start` / `prof-stop` (a CPU profile of one window, summarised here).
 */
import v8 from 'node:v8';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawData } from 'ws';
import { nowUs } from '../common/clock.js';
import { ArrivalRecorder, type Payload, type Receiver } from '../load/arrival-recorder.js';
import { internalized } from '../common/intern.js';
import { recordUs } from '../load/histogram-record.js';
import { startSelfMonitor } from '../load/self-monitor.js';
import { compileProfile, type CompiledProfile } from '../load/profile.js';
import { classifyEvent, joinWithProfile } from '../load/profile-session.js';
import { connectClient, type ProtocolClient } from '../load/protocol-client.js';
import { REFERENCE_PROFILES } from '../config/protocol.js';
import { sourceAddressFor } from '../load/source-address.js';
import { createLatencyHistogram } from '../model/histogram.js';
import {
  CONNECT_CONCURRENCY,
  CPU_CONNS,
  CPU_ROOMS,
  MEM_N1,
  MEM_N2,
  MEM_ROOMS,
  MEM_STEPS,
  machineBusyUs,
  send,
  type Kind,
  type Work,
} from './config.js';
import { GcMeter, InProcessProfiler, summarise } from './profile-breakdown.js';

export const recorder = new ArrivalRecorder();
const ledger = recorder.ledger;

export interface BenchState extends Receiver {
  localAddress: string;
  closed: boolean;
  joinWait: ((reply: unknown) => void) | null;
  /** While connecting: resolves the welcome (null once welcomed). */
  welcomed: ((nodeId: string | null) => void) | null;
}

export const PROFILES: Record<'lean' | 'json', CompiledProfile> = {
  lean: compileProfile(REFERENCE_PROFILES.socketio, 'bench-secret'),
  json: compileProfile(REFERENCE_PROFILES.json, 'bench-secret'),
};

/** The worker's receive path for profile P: the stamp and room of an event's arguments → the recorder. */
export function profileArrival(P: CompiledProfile): (state: Receiver, data: unknown) => void {
  return (state, data) => {
    const s = P.stamp(data);
    if (s !== undefined) recorder.onStamp(state, P.room!(data) as string | undefined, s);
  };
}

/** Investigation: only the ledger part of the receive path. */
function ledgerOnly(P: CompiledProfile): (state: Receiver, data: unknown) => void {
  return (state, data) => {
    const p = P.stamp(data);
    if (p !== undefined) ledger.record(state.id, p.pub, p.seq);
  };
}

/** Investigation: only the clock and HDR part of the receive path (two records, as the recorder does). */
const hdrBucket = { same: createLatencyHistogram(), cross: createLatencyHistogram() };
function hdrOnly(P: CompiledProfile): (state: Receiver, data: unknown) => void {
  return (state, data) => {
    const now = nowUs();
    const p: Payload | undefined = P.stamp(data);
    if (p === undefined) return;
    const lat = now - p.t;
    recordUs(p.n !== state.nodeId ? hdrBucket.cross : hdrBucket.same, lat);
    recordUs(recorder.second, lat);
  };
}

/**
 * Generous on purpose: on a busy machine the server process gets a small share of the cores and
 * a connect storm queues behind it (the noise gate judges such a run; it should not break it).
 */
const CONNECT_TIMEOUT_MS = 60_000;
/** Connections made under the profiler after the memory checkpoints (bench/profile-breakdown.ts). */
const SETUP_PROFILE_CONNS = 1_000;

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

type Opener = (i: number) => Promise<Conn>;

async function opener(kind: Kind, work: Work, port: number, rooms: number): Promise<Opener> {
  const url = `http://127.0.0.1:${port}`;
  if (kind === 'bare') {
    const { default: WebSocket } = await import('ws');
    return (i) =>
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
  }
  if (kind === 'sioc') {
    const { io } = await import('socket.io-client');
    return (i) =>
      new Promise<Conn>((resolve, reject) => {
        const state: Receiver = { id: i, nodeId: `node-${1 + (i % 3)}` };
        const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: CONNECT_TIMEOUT_MS, localAddress: sourceAddressFor(i) } as Parameters<typeof io>[1]);
        socket.once('connect', () => {
          socket.off('connect_error');
          resolve({ close: () => socket.disconnect() });
        });
        socket.once('connect_error', (e) => reject(e));
        if (work === 'arrival')
          socket.on('msg', (data: unknown) => {
            received++;
            recorder.onArrival(state, data);
          });
        else if (work === 'count') socket.on('msg', () => received++);
      });
  }
  // wsbench's clients, as load/worker.ts dials and joins.
  const P = PROFILES[kind];
  const part = work === 'ledger' ? ledgerOnly(P) : work === 'hdr' ? hdrOnly(P) : work === 'count' ? null : profileArrival(P);
  // Handlers shared by every connection, the state reached through the client, classified as the worker classifies (load/worker.ts onClientEvent).
  const onEvent = function (this: ProtocolClient, event: string, data: unknown): void {
    const state = this.owner as BenchState;
    const kind = classifyEvent(P, event, data, state.joinWait !== null);
    if (kind === 'message') {
      received++;
      part?.(state, data);
    } else if (kind === 'join-reply') state.joinWait!(data);
    else if (kind === 'welcome' && state.welcomed !== null) {
      const id = P.welcome!.nodeId(data);
      const w = state.welcomed;
      state.welcomed = null;
      w(typeof id === 'string' ? id : null);
    }
  };
  const onClose = function (this: ProtocolClient): void {
    (this.owner as BenchState).closed = true;
  };
  return async (i) => {
    const room = internalized(`r${i % rooms}`);
    // As the worker keeps its clients (load/worker.ts): the recorder's fields in the literal, the room internalized.
    const state: BenchState = { id: i, nodeId: null, localAddress: sourceAddressFor(i), closed: false, joinWait: null, welcomed: null, room, role: 'member', stream: undefined, streamPub: -1, rxNode: -1, rxNodeOf: undefined };
    const creds = P.credentials(i, `client-${i}`, [room]);
    const welcome = new Promise<string | null>((resolve) => (state.welcomed = resolve));
    const client: ProtocolClient = await connectClient(P.wire === 'socketio' ? 'socketio' : 'ws', {
      url,
      path: P.path,
      localAddress: state.localAddress,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      fullArgs: true,
      rawFrames: true,
      ...(creds.auth ? { auth: creds.auth } : {}),
      ...(creds.query ? { query: creds.query } : {}),
    });
    client.owner = state;
    client.onEvent = onEvent;
    client.onClose = onClose;
    let timer: NodeJS.Timeout | undefined;
    const nodeId = await Promise.race([welcome, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), CONNECT_TIMEOUT_MS)))]);
    clearTimeout(timer);
    state.welcomed = null;
    if (nodeId === undefined) throw new Error(`no welcome within ${CONNECT_TIMEOUT_MS} ms`);
    state.nodeId = nodeId;
    const why = await joinWithProfile(P, state, client, room, CONNECT_TIMEOUT_MS);
    if (why !== null) throw new Error(`join failed: ${why}`);
    return client;
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
async function settledMemory(): Promise<NodeJS.MemoryUsage & { spaces: Record<string, number> }> {
  for (let k = 0; k < 4; k++) {
    await sleep(150);
    gc?.();
  }
  await sleep(150);
  gc?.();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((x) => [x.space_name, Math.round(x.physical_space_size / 1024)]));
  return { ...process.memoryUsage(), spaces };
}

/** The next message from the orchestrator of this type. */
function nextMessage(type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type !== type) return;
      process.off('message', on);
      resolve(m);
    };
    process.on('message', on);
  });
}

export async function clientRole(kind: Kind, work: Work, mode: 'mem' | 'cpu', port: number): Promise<void> {
  const rooms = mode === 'mem' ? MEM_ROOMS : CPU_ROOMS;
  const open = await opener(kind, work, port, rooms);
  const conns: Conn[] = [];

  /** Connects [from, to), CONNECT_CONCURRENCY at a time; returns this process's CPU µs for it. */
  async function connectRange(from: number, to: number): Promise<number> {
    const c0 = process.cpuUsage();
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
    const c = process.cpuUsage(c0);
    return c.user + c.system;
  }

  if (work !== 'parse' && work !== 'count') startSelfMonitor(() => recorder.takeSecond());
  recorder.measureFromUs = nowUs();

  if (mode === 'mem') {
    // Setup: N1 connections while nobody sends; this process's CPU, and the machine's, for it.
    const busy0 = machineBusyUs();
    const t0 = nowUs();
    const setupCpuUs = await connectRange(0, MEM_N1);
    const elapsedUs = nowUs() - t0;
    const busy1 = machineBusyUs();
    send({ type: 'setup', connections: conns.length, cpuUs: setupCpuUs, elapsedUs, machineBusyUs: busy0 === null || busy1 === null ? null : busy1 - busy0 });
    // Checkpoints every (N2 − N1) / MEM_STEPS connections (the server pinging all along); at each,
    // the server broadcasts once to every room, and memory is read once all of it arrived.
    const points: Array<{ n: number; m: NodeJS.MemoryUsage; received: number }> = [];
    let connectUs = elapsedUs;
    for (let k = 0; k <= MEM_STEPS; k++) {
      const target = MEM_N1 + Math.round(((MEM_N2 - MEM_N1) * k) / MEM_STEPS);
      const t1 = nowUs();
      await connectRange(conns.length, target);
      connectUs += nowUs() - t1;
      const before = received;
      const settle = nextMessage('settle');
      send({ type: 'checkpoint', connections: conns.length });
      const expect = (await settle).expect as number;
      for (let w = 0; w < 100 && received - before < expect; w++) await sleep(50);
      points.push({ n: conns.length, m: await settledMemory(), received });
      if (process.env.BENCH_VERBOSE === '1') process.stderr.write(`    ${kind}: ${conns.length} connections, ${received - before} of ${expect} swept\n`);
      const snapDir = process.env.BENCH_HEAP_SNAPSHOT;
      if (snapDir !== undefined && (k === 0 || k === MEM_STEPS)) v8.writeHeapSnapshot(`${snapDir}/${kind}-${conns.length}.heapsnapshot`);
    }
    // Where the setup time goes: SETUP_PROFILE_CONNS more connections under the profiler (after
    // the figures, so its overhead is in none of them).
    const profiler = new InProcessProfiler();
    await profiler.start();
    const from = conns.length;
    await connectRange(from, from + SETUP_PROFILE_CONNS);
    const setupProfile = summarise(await profiler.stop(), conns.length - from);
    send({ type: 'mem', setupProfile, points, connectRatePerS: Math.round((conns.length * 1e6) / connectUs), gc: gc !== undefined });
    return;
  }

  await connectRange(0, CPU_CONNS);
  const meter = new GcMeter();
  const profiler = new InProcessProfiler();
  let profFrom = 0;
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'mark') {
      const cpu = process.cpuUsage();
      const atUs = nowUs();
      const w = meter.next();
      send({ type: 'mark', cpuUs: cpu.user + cpu.system, userUs: cpu.user, sysUs: cpu.system, atUs, received, gc: w });
    } else if (msg.type === 'prof-start') {
      void profiler.start().then(() => {
        profFrom = received;
        send({ type: 'prof-started' });
      });
    } else if (msg.type === 'prof-stop') {
      const n = received - profFrom;
      void profiler.stop().then((p) => send({ type: 'profile', breakdown: summarise(p, n) }));
    }
  });
  send({ type: 'ready', connections: conns.length });
}
