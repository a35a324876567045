import { fork, type ChildProcess } from 'node:child_process';
import { WsbenchError } from '../common/errors.js';
import { distEntry } from '../common/paths.js';
import { logger } from '../common/logger.js';
import { sourceAddressFor } from './source-address.js';
import type { Assignment } from './room-plan.js';
import type { WireProtocol } from './protocol-client.js';
import { isReferenceProfile, REFERENCE_PROFILES, type ProtocolProfile } from '../config/protocol.js';
import type { ConnectResult, Disconnection, FromWorker, PublisherReport, ToWorker, WorkerTick } from './ipc.js';
import type { ReconnectPolicy } from './reconnect-policy.js';
import type { ClientTls } from '../common/tls.js';
import { isLoopbackHost } from './source-address.js';

const log = logger('load');

/** Open files per process here: 20,000, not raisable. Keep headroom for the worker's own fds. */
export const MAX_CLIENTS_PER_WORKER = 18_000;
/** A worker's Node flags: `--expose-gc`, as its memory is read after a forced GC (load/worker-memory.ts). */
export const WORKER_NODE_FLAGS: readonly string[] = ['--expose-gc'];
/**
 * The flags of workers that only hold connections (`LoadGeneratorOptions.holding`): the young
 * generation bounded to 2 MiB semi-spaces and every full GC compacting. V8 grows the young
 * generation to 16 MiB semi-spaces after a connect storm, whose connections survive their
 * scavenges, and keeps it: ≈ 25 MiB of RSS that holds no connection, 2.5 KiB a connection at
 * 10,000 per worker (issue 17). Compacting keeps the handshake garbage a smaller young generation
 * promotes from staying behind as fragmented old space. Not for workers that receive deliveries:
 * a bounded young generation scavenges several times as often there (the bench's `lean-holding`
 * variant; docs/benchmarks.md).
 */
export const HOLDING_WORKER_NODE_FLAGS: readonly string[] = [...WORKER_NODE_FLAGS, '--max-semi-space-size=2', '--compact-on-every-full-gc'];
/**
 * glibc malloc settings of the same workers: a fixed trim threshold (and no top pad) hands freed
 * memory at the top of the heap back at once and turns off malloc's growing mmap threshold, which
 * otherwise keeps the connect storm's freed blocks mapped (measured: 4.5–4.7 → 3.8–4.1 KiB a
 * connection at 10,000 per worker). Not for workers that receive: their 64 KiB socket reads would
 * grow and trim the heap over and over. Other C libraries ignore them.
 */
export const HOLDING_WORKER_ENV: Readonly<Record<string, string>> = { MALLOC_TRIM_THRESHOLD_: '65536', MALLOC_TOP_PAD_: '0' };

export interface LoadGeneratorOptions {
  /** URL clients connect to (the load balancer). */
  url: string;
  /** Wire protocol of the server variant (default socketio): its reference profile, when `profile` is absent. */
  protocol?: WireProtocol;
  /** How to speak to the nodes (config `protocol`); default the reference profile of `protocol`. */
  profile?: ProtocolProfile;
  /** Upstream `host:port` port → node id, for the load balancer's `X-Wsbench-Upstream` header. */
  nodePorts?: Record<string, string>;
  /**
   * With a profile that is not a reference one: fail with WSB_PROTOCOL_MISMATCH when publishing
   * has gone on this long (ms) and no message matched the receive rule (default 3000).
   */
  receiveProbeMs?: number;
  jwtSecret: string;
  /** Total client connections. */
  connections: number;
  /** Worker processes (default: enough for the open-file limit, at least 2). */
  workers?: number;
  /** Connections opened per second across all workers (default 2000). */
  connectRate?: number;
  /** ms for one connection to reach the Socket.IO CONNECT ack (default 10000). */
  connectTimeoutMs?: number;
  /** How clients reconnect after a disconnection (default socketio: socket.io-client's defaults). */
  reconnect?: ReconnectPolicy;
  /** Calibration: busy CPU µs per received message (default 0). */
  receiveCostUs?: number;
  /** Calibration: log every `every`-th arrival's receive time to `<path>.worker-<i>.json` (default off; calibrate/receive-log.ts). */
  receiveLog?: { path: string; every: number };
  /** Socket.IO connection state recovery: reconnecting clients resume their session (default off). */
  recover?: boolean;
  /** wss:// with a CA or without verification (common/tls.ts); absent: the system's CAs. */
  tls?: ClientTls;
  /** Called with every worker's per-second report. */
  onTick?: (tick: WorkerTick) => void;
  /** The workers only hold connections (connection-capacity), nothing is delivered: HOLDING_WORKER_NODE_FLAGS (default false). */
  holding?: boolean;
}

export const LOAD_DEFAULTS = { connectRate: 2000, connectTimeoutMs: 10_000 };

export function defaultWorkerCount(connections: number): number {
  return Math.max(2, Math.ceil(connections / MAX_CLIENTS_PER_WORKER));
}

type Results = Extract<FromWorker, { type: 'results' }>;

interface Worker {
  id: number;
  proc: ChildProcess;
  clientIds: number[];
}

/**
 * The coordinator side of the load generator: forks worker processes, hands each a share of the
 * clients (spread over source addresses in 127.0.0.0/8), and drives them phase by phase.
 */
export class LoadGenerator {
  readonly workers: Worker[] = [];
  private readonly waiters = new Map<string, Array<(m: FromWorker) => void>>();
  private failure: WsbenchError | undefined;
  private failureListeners: Array<(e: WsbenchError) => void> = [];
  private closed: Promise<void> | undefined;
  /** Client id → worker id. */
  readonly workerOf = new Map<number, number>();
  /** The profile every worker speaks. */
  readonly profile: ProtocolProfile;
  /** `profile` is not a reference profile: a misfit is WSB_PROTOCOL_MISMATCH, and the receive probe runs. */
  readonly custom: boolean;
  /** The first frames the workers received (raw, truncated), for WSB_PROTOCOL_MISMATCH. */
  readonly frames: string[] = [];
  private probe = { sent: 0, received: 0, strays: 0, firstSentAt: 0, done: false };

  private constructor(private readonly opts: LoadGeneratorOptions) {
    this.profile = opts.profile ?? ((opts.protocol ?? 'socketio') === 'socketio' ? REFERENCE_PROFILES.socketio : REFERENCE_PROFILES.json);
    this.custom = !isReferenceProfile(this.profile);
  }

  /** WSB_PROTOCOL_MISMATCH: `what` went wrong; the frames the workers saw. */
  mismatch(what: string, latest = false): WsbenchError {
    const list = latest ? this.frames.slice(-8) : this.frames.slice(0, 8);
    const frames = list.length ? list.map((f) => `  ${f}`).join('\n') : '  (none)';
    return new WsbenchError('WSB_PROTOCOL_MISMATCH', `the protocol profile does not fit the server: ${what}\n${latest ? 'frames received since publishing began' : 'first frames received'}:\n${frames}`, {
      hint: 'check the `protocol` key of the config against what the server sends (docs/configuration.md#protocol)',
    });
  }

  private keepFrames(frames: string[] | undefined): void {
    if (frames === undefined) return;
    for (const f of frames) if (this.frames.length < 96 && !this.frames.includes(f)) this.frames.push(f);
  }

  /** The receive probe: publishing went on for `receiveProbeMs` and nothing matched the receive rule. */
  private watchProbe(t: WorkerTick): void {
    const pr = this.probe;
    if (!this.custom || pr.done) return;
    pr.sent += t.sent;
    pr.received += t.received;
    pr.strays = Math.max(pr.strays, t.strays);
    if (pr.received > 0) {
      pr.done = true;
      return;
    }
    if (pr.sent === 0) return;
    if (pr.firstSentAt === 0) pr.firstSentAt = Date.now();
    else if (Date.now() - pr.firstSentAt >= (this.opts.receiveProbeMs ?? 3000)) {
      pr.done = true;
      this.fail(this.mismatch(`${pr.sent} messages published, none received matched the receive rule (${JSON.stringify(this.profile.receive)})${pr.strays ? `; ${pr.strays} matched but named another room` : ''}`, true));
    }
  }

  static async start(opts: LoadGeneratorOptions): Promise<LoadGenerator> {
    const gen = new LoadGenerator(opts);
    try {
      await gen.spawnWorkers();
    } catch (e) {
      await gen.close();
      throw e;
    }
    return gen;
  }

  private async spawnWorkers(): Promise<void> {
    const n = Math.max(1, this.opts.workers ?? defaultWorkerCount(this.opts.connections));
    const perWorker = Math.ceil(this.opts.connections / n);
    if (perWorker > MAX_CLIENTS_PER_WORKER) {
      throw new WsbenchError('WSB_INVALID_OPTION', `${perWorker} connections per worker exceeds the ${MAX_CLIENTS_PER_WORKER} one process can hold (open-file limit 20,000)`, {
        hint: `use --workers ${Math.ceil(this.opts.connections / MAX_CLIENTS_PER_WORKER)} or more`,
      });
    }
    const entry = distEntry('load/worker.js');
    const connectRate = this.opts.connectRate ?? LOAD_DEFAULTS.connectRate;
    const loopback = isLoopbackHost(new URL(this.opts.url).hostname);
    const ready: Array<Promise<FromWorker>> = [];
    for (let w = 0; w < n; w++) {
      // Client i goes to worker i % n: each worker gets clients on every source address block.
      const clientIds: number[] = [];
      for (let i = w; i < this.opts.connections; i += n) clientIds.push(i);
      const holding = this.opts.holding === true;
      const proc = fork(entry, [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
        execArgv: [...(holding ? HOLDING_WORKER_NODE_FLAGS : WORKER_NODE_FLAGS)],
        ...(holding ? { env: { ...process.env, ...HOLDING_WORKER_ENV } } : {}),
      });
      const worker: Worker = { id: w, proc, clientIds };
      this.workers.push(worker);
      for (const id of clientIds) this.workerOf.set(id, w);
      proc.on('message', (m: FromWorker) => this.onMessage(m));
      proc.on('exit', (code, signal) => {
        if (this.closed) return;
        this.fail(new WsbenchError('WSB_WORKER_FAILED', `load worker ${w} exited unexpectedly (code ${code}, signal ${signal})`, { hint: 'run with --debug for details' }));
      });
      ready.push(this.waitFor('ready', w));
      this.post(worker, {
        type: 'init',
        workerId: w,
        url: this.opts.url,
        profile: this.profile,
        reference: !this.custom,
        jwtSecret: this.opts.jwtSecret,
        ...(this.opts.nodePorts ? { nodePorts: this.opts.nodePorts } : {}),
        // Source addresses in 127.0.0.0/8 reach loopback only: a cluster elsewhere gets the default route's address ('').
        clients: clientIds.map((id) => ({ id, localAddress: loopback ? sourceAddressFor(id) : '' })),
        connectRate: connectRate / n,
        connectTimeoutMs: this.opts.connectTimeoutMs ?? LOAD_DEFAULTS.connectTimeoutMs,
        reconnect: this.opts.reconnect ?? 'socketio',
        receiveCostUs: this.opts.receiveCostUs ?? 0,
        ...(this.opts.receiveLog ? { receiveLog: this.opts.receiveLog } : {}),
        recover: this.opts.recover ?? false,
        ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      });
    }
    await Promise.all(ready);
    log(`${n} workers ready`);
  }

  private post(w: Worker, msg: ToWorker): void {
    if (w.proc.connected) w.proc.send(msg);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'tick') {
      this.keepFrames(m.frames);
      this.watchProbe(m);
      this.opts.onTick?.(m);
      return;
    }
    if (m.type === 'connected' || m.type === 'joined') this.keepFrames(m.frames);
    if (m.type === 'error') {
      this.fail(new WsbenchError('WSB_WORKER_FAILED', `load worker ${m.workerId} failed: ${m.message}`));
      return;
    }
    const key = `${m.type}:${m.workerId}`;
    const list = this.waiters.get(key);
    const waiter = list?.shift();
    if (waiter) waiter(m);
  }

  private fail(e: WsbenchError): void {
    if (this.failure) return;
    this.failure = e;
    for (const l of this.failureListeners) l(e);
  }

  private waitFor(type: FromWorker['type'], workerId: number): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const key = `${type}:${workerId}`;
      const list = this.waiters.get(key) ?? [];
      list.push(resolve);
      this.waiters.set(key, list);
      this.failureListeners.push(reject);
    });
  }

  private async all<T extends FromWorker['type']>(type: T, make: (w: Worker) => ToWorker | null): Promise<Array<Extract<FromWorker, { type: T }>>> {
    const waits: Array<Promise<FromWorker>> = [];
    for (const w of this.workers) {
      const msg = make(w);
      if (!msg) continue;
      waits.push(this.waitFor(type, w.id));
      this.post(w, msg);
    }
    return (await Promise.all(waits)) as Array<Extract<FromWorker, { type: T }>>;
  }

  /** Opens every connection (ramped); resolves with one result per client. */
  async connect(): Promise<ConnectResult[]> {
    const res = await this.all('connected', () => ({ type: 'connect' }));
    return res.flatMap((r) => r.results);
  }

  /** Sends room assignments to the workers holding the clients; resolves with the failed joins. */
  async join(assignments: Assignment[]): Promise<Array<{ id: number; room: string; error: string }>> {
    const per = new Map<number, Assignment[]>();
    for (const a of assignments) {
      const w = this.workerOf.get(a.id)!;
      const l = per.get(w) ?? [];
      l.push(a);
      per.set(w, l);
    }
    const res = await this.all('joined', (w) => ({ type: 'join', assignments: per.get(w.id) ?? [] }));
    return res.flatMap((r) => r.failures);
  }

  /** Runs the publish schedule; resolves when every publisher has sent its last message. */
  async publish(plan: {
    startUs: number;
    measureFromUs: number;
    endUs: number;
    /** The pump stops here; what has not left a publisher by then is never sent (default endUs). */
    deadlineUs?: number;
    /** The run's end: what the pump sends after it counts as overrun (default endUs). */
    runEndUs?: number;
    rate: number;
    payloadBytes: number;
    publishers: Array<{ id: number; pub: number; room: string; phase: number }>;
    /** Calibration: every worker's pump holds from startUs to endUs (CLOCK_MONOTONIC µs). */
    stall?: { startUs: number; endUs: number };
  }): Promise<{ publishers: PublisherReport[]; lateSends: number; stallResumedUs: Map<number, number> }> {
    const res = await this.all('published', (w) => ({
      type: 'publish',
      startUs: plan.startUs,
      measureFromUs: plan.measureFromUs,
      endUs: plan.endUs,
      deadlineUs: plan.deadlineUs ?? plan.endUs,
      runEndUs: plan.runEndUs ?? plan.endUs,
      rate: plan.rate,
      payloadBytes: plan.payloadBytes,
      publishers: plan.publishers.filter((p) => this.workerOf.get(p.id) === w.id),
      ...(plan.stall ? { stall: plan.stall } : {}),
    }));
    const stallResumedUs = new Map<number, number>();
    for (const r of res) if (r.stallResumedUs !== undefined) stallResumedUs.set(r.workerId, r.stallResumedUs);
    return { publishers: res.flatMap((r) => r.publishers), lateSends: res.reduce((a, r) => a + r.lateSends, 0), stallResumedUs };
  }

  /** Changes how clients reconnect from now on. */
  async setReconnect(reconnect: ReconnectPolicy): Promise<void> {
    await this.all('reconnect-set', () => ({ type: 'set-reconnect', reconnect }));
  }

  /** Each worker's memory (after a forced GC) and open connections. */
  stats(): Promise<Array<Extract<FromWorker, { type: 'stats' }>>> {
    return this.all('stats', () => ({ type: 'stats' }));
  }

  /** Holds every connection for `durationMs`, each pinging every `pingIntervalMs`. */
  hold(durationMs: number, pingIntervalMs: number): Promise<Array<Extract<FromWorker, { type: 'held' }>>> {
    return this.all('held', () => ({ type: 'hold', durationMs, pingIntervalMs }));
  }

  /** Every disconnection so far, from every worker. */
  async disconnections(): Promise<Disconnection[]> {
    const res = await this.all('disconnections', () => ({ type: 'disconnections' }));
    return res.flatMap((r) => r.list);
  }

  /** Collects histograms, accounting, losses, windows and health from every worker. */
  collect(req: Omit<Extract<ToWorker, { type: 'collect' }>, 'type'>): Promise<Results[]> {
    return this.all('results', () => ({ type: 'collect', ...req }));
  }

  /** Rejects as soon as any worker fails (for racing against a phase). */
  failed(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.failure) reject(this.failure);
      else this.failureListeners.push(reject);
    });
  }

  pids(): number[] {
    return this.workers.map((w) => w.proc.pid).filter((p): p is number => p !== undefined);
  }

  /** Closes every connection and stops the workers (SIGKILL after 3 s). Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.all(
        this.workers.map(async (w) => {
          if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
          const exited = new Promise<void>((r) => w.proc.once('exit', () => r()));
          this.post(w, { type: 'close' });
          const timer = setTimeout(() => w.proc.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(timer);
        }),
      );
    })();
    return this.closed;
  }
}
