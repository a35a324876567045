/**
 * `wsbench cluster up | down | ls` (and the hidden `cluster serve`, the keeper): a reference
 * cluster that stays up between runs. See cluster/persistent.ts for the state on disk.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { WsbenchError, isWsbenchError } from '../common/errors.js';
import { packageRoot } from '../common/paths.js';
import { LB_POLICIES } from '../cluster/nginx-config.js';
import { SERVER_DEFAULTS, SOCKETIO_ADAPTERS, type StartedCluster } from '../cluster/types.js';
import { DOCKER_IMAGE_DEFAULTS, DOCKER_NETWORK_CHOICES, DOCKER_PULL_CHOICES } from '../cluster/docker-options.js';
import { LocalDriver } from '../cluster/local-driver.js';
import { pidsRecord } from '../cluster/clean.js';
import { processIdentity } from '../cluster/process-identity.js';
import { loadConfigFile } from '../config/load.js';
import { resolveUserServer, serverSchema, shownUserServer, userServerProblems, type UserServer } from '../config/user-server.js';
import {
  CLUSTER_DIR_PREFIX,
  CLUSTER_RESULTS_DIR,
  JWT_SECRET_FILE,
  keeperAlive,
  listClusters,
  newClusterId,
  readClusterState,
  resolveCluster,
  type ClusterSpec,
  type ClusterState,
} from '../cluster/persistent.js';

/** Defaults of `wsbench cluster up`. */
export const CLUSTER_UP_DEFAULTS = {
  /** Reference nodes behind NGINX. */
  nodes: 3,
  server: 'socketio' as const,
  lbPolicy: 'ip_hash' as const,
  /** Connections NGINX is sized for (worker_connections, open files). */
  maxConnections: 20_000,
  /** ms each part gets to become ready. */
  readyTimeout: 30_000,
  /** ms `cluster up` waits for the keeper to report the cluster up (nodes ready, or docker images started). */
  upTimeout: 180_000,
  /** ms `cluster down` waits for the keeper to tear the cluster down before killing what is left. */
  downTimeout: 30_000,
};

const upSchema = z
  .object({
    nodes: z.number().int().min(1).max(32).default(CLUSTER_UP_DEFAULTS.nodes),
    /** A reference variant, or the user's server (`{ command | image, cwd, env, ready, stop, metrics }`), as `run` takes it. */
    server: serverSchema.default(CLUSTER_UP_DEFAULTS.server),
    adapter: z.enum(SOCKETIO_ADAPTERS).optional(),
    lbPolicy: z.enum(LB_POLICIES).default(CLUSTER_UP_DEFAULTS.lbPolicy),
    lbPort: z.number().int().min(0).max(65535).default(0),
    driver: z.enum(['local', 'docker']).default('local'),
    readyTimeout: z.number().int().min(1000).max(600_000).default(CLUSTER_UP_DEFAULTS.readyTimeout),
    serverRateLimit: z.number().int().min(1).max(100_000_000).default(SERVER_DEFAULTS.rateLimit),
    roomCapacity: z.number().int().min(1).max(10_000_000).default(SERVER_DEFAULTS.roomCapacity),
    maxConnections: z.number().int().min(1).max(1_000_000).default(CLUSTER_UP_DEFAULTS.maxConnections),
    redisImage: z.string().min(1).optional(),
    nginxImage: z.string().min(1).optional(),
    nodeImage: z.string().min(1).optional(),
    dockerNetwork: z.enum(DOCKER_NETWORK_CHOICES).default('auto'),
    dockerPull: z.enum(DOCKER_PULL_CHOICES).default('missing'),
  })
  .strict();

const NUMERIC = new Set(['nodes', 'lbPort', 'readyTimeout', 'serverRateLimit', 'roomCapacity', 'maxConnections']);

export interface ClusterIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Flags (and the `--config` file) of `cluster up` → the keeper's spec. Every problem at once, as
 * WSB_INVALID_OPTION. `loaded`: the config file already read (any kind: `clusterSpecFromCommandLine`)
 * and its folder; absent, a JSON `--config` is read here. The user's server comes as `run` takes it:
 * the file's `server` object, `--server-command` / `--server-image` over it (the flag's fields win),
 * its relative `cwd` against the file's folder.
 */
export function buildClusterSpec(flags: Record<string, unknown>, id = newClusterId(), loaded?: { file: Record<string, unknown>; dir: string }): ClusterSpec {
  let file: Record<string, unknown> = loaded?.file ?? {};
  let baseDir = loaded?.dir ?? process.cwd();
  if (loaded === undefined && typeof flags.config === 'string') {
    try {
      file = JSON.parse(readFileSync(flags.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new WsbenchError('WSB_CONFIG_INVALID', `cannot read config file ${flags.config}: ${(e as Error).message}`, { hint: 'the config file is JSON, e.g. { "nodes": 3, "server": "ws" }' });
    }
    baseDir = dirname(resolve(flags.config));
  }
  // A run's config file may hold scenario options and targets too: cluster up takes only its own keys.
  file = Object.fromEntries(Object.entries(file).filter(([k]) => k in upSchema.shape));
  const raw: Record<string, unknown> = { ...file };
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || k === 'config' || k === 'out' || k === 'json' || k === 'serverCommand' || k === 'serverImage') continue;
    raw[k] = NUMERIC.has(k) && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  const problems: string[] = [];
  if (flags.serverCommand !== undefined || flags.serverImage !== undefined) {
    if (flags.server !== undefined) problems.push(`--server ${String(flags.server)} and --server-${flags.serverCommand !== undefined ? 'command' : 'image'}: choose a reference server or your own`);
    else {
      raw.server = {
        ...(isRecord(file.server) ? file.server : {}),
        ...(flags.serverCommand !== undefined ? { command: flags.serverCommand } : {}),
        ...(flags.serverImage !== undefined ? { image: flags.serverImage } : {}),
      };
    }
  }
  const parsed = upSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = String(i.path[0]);
      const flag = key === 'server' && isRecord(raw.server) ? `server${i.path.length > 1 ? `.${i.path.slice(1).join('.')}` : ''}` : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      problems.push(i.code === 'unrecognized_keys' ? `${i.path.length ? `${flag}: ` : ''}unknown option(s): ${i.keys.join(', ')}` : `${flag}: ${i.message}`);
    }
  }
  const user = isRecord(raw.server) ? (raw.server as UserServer) : undefined;
  // Checks across flags run on what was given, so that every problem is named at once.
  if (raw.adapter !== undefined && !user && (raw.server ?? 'socketio') !== 'socketio') problems.push('--adapter: only applies with --server socketio');
  if ((raw.driver ?? 'local') !== 'docker') {
    for (const k of ['redisImage', 'nginxImage', 'nodeImage', 'dockerNetwork', 'dockerPull'] as const) if (raw[k] !== undefined) problems.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: only applies with --driver docker`);
  }
  if (user && parsed.success) {
    const given = (k: string) => raw[k] !== undefined;
    for (const p of userServerProblems(user, parsed.data.driver, 'server', given)) problems.push(`${p.key === 'server' ? 'server' : `--${p.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`}: ${p.text}`);
  }
  if (problems.length || !parsed.success) {
    throw new WsbenchError('WSB_INVALID_OPTION', `invalid options for cluster up:\n  - ${problems.join('\n  - ')}`, { hint: 'see `wsbench cluster up --help`' });
  }
  const r = parsed.data;
  // The user's nodes are spoken to in the reference socket.io protocol until a run's profile says otherwise (as in `run`).
  const server = typeof r.server === 'string' ? r.server : 'socketio';
  return {
    id,
    driver: r.driver,
    topology: {
      server,
      ...(typeof r.server === 'object' ? { userServer: resolveUserServer(r.server, baseDir) } : {}),
      ...(r.server === 'socketio' ? { adapter: r.adapter ?? 'redis' } : {}),
      nodes: r.nodes,
      lb: 'nginx',
      lbPolicy: r.lbPolicy,
      lbPort: r.lbPort,
      expectedConnections: r.maxConnections,
      serverOptions: { ...SERVER_DEFAULTS, rateLimit: r.serverRateLimit, roomCapacity: r.roomCapacity },
      readyTimeoutMs: r.readyTimeout,
    },
    ...(r.driver === 'docker'
      ? {
          docker: {
            images: { redis: r.redisImage ?? DOCKER_IMAGE_DEFAULTS.redis, nginx: r.nginxImage ?? DOCKER_IMAGE_DEFAULTS.nginx, node: r.nodeImage ?? DOCKER_IMAGE_DEFAULTS.node },
            network: r.dockerNetwork,
            pull: r.dockerPull,
          },
        }
      : {}),
  };
}

/** `cluster up`'s spec from its command line: the `--config` file of any kind (JSON, JS, TS) loaded as `run` loads it. */
export async function clusterSpecFromCommandLine(flags: Record<string, unknown>): Promise<ClusterSpec> {
  if (typeof flags.config !== 'string') return buildClusterSpec(flags);
  const file = await loadConfigFile(flags.config);
  return buildClusterSpec(flags, newClusterId(), { file, dir: dirname(resolve(flags.config)) });
}

/** What a cluster's nodes run, as `cluster up` / `ls` print it and cluster.json keeps it (credentials redacted). */
export function describeNodes(s: Pick<ClusterState, 'server' | 'userServer'>): string {
  if (!s.userServer) return `${s.server} nodes`;
  return `custom nodes (${s.userServer.image ?? s.userServer.command ?? '?'})`;
}

function printCluster(io: ClusterIO, s: ClusterState, dir: string): void {
  io.stdout.write(
    [
      `cluster ${s.id} up (${s.driver}, ${s.nodes.length} ${describeNodes(s)}${s.adapter === 'redis-streams' ? ', redis-streams adapter' : ''}${s.userServer ? '' : `, rate limit ${s.serverOptions.rateLimit}/min`})`,
      `  url:        ${s.url}`,
      ...s.nodes.map((n) => `  ${n.id.padEnd(10)}  ${n.url}`),
      `  redis:      ${s.redis}`,
      `  jwt secret: ${s.jwtSecretFile}`,
      `  folder:     ${dir} (logs in logs/)`,
      `  run:        wsbench run cross-node-broadcast --cluster ${s.id}`,
      `  stop:       wsbench cluster down ${s.id}`,
      '',
    ].join('\n'),
  );
}

/**
 * `wsbench cluster up`: starts the keeper detached, waits until it writes cluster.json (or fails),
 * prints where the cluster is, and returns; the cluster stays up until `wsbench cluster down`.
 */
export async function clusterUp(flags: Record<string, unknown>, io: ClusterIO, opts: { upTimeoutMs?: number } = {}): Promise<number> {
  const spec = await clusterSpecFromCommandLine(flags);
  const dir = resolve(typeof flags.out === 'string' ? flags.out : join(CLUSTER_RESULTS_DIR, `${CLUSTER_DIR_PREFIX}${spec.id}`));
  mkdirSync(join(dir, 'logs'), { recursive: true });
  rmSync(join(dir, 'cluster.json'), { force: true });
  writeFileSync(join(dir, JWT_SECRET_FILE), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'cluster-spec.json'), `${JSON.stringify(spec, null, 2)}\n`);
  const log = openSync(join(dir, 'logs', 'keeper.log'), 'a');
  // Detached (own session), so the cluster outlives this command and a Ctrl-C in this terminal.
  const keeper = spawn(process.execPath, [join(packageRoot(), 'bin', 'wsbench.js'), 'cluster', 'serve', dir], { detached: true, stdio: ['ignore', log, log], env: process.env });
  closeSync(log);
  let exited: number | null | undefined;
  keeper.once('exit', (code) => (exited = code));
  keeper.unref();
  io.stderr.write(`starting cluster ${spec.id} (${spec.driver}, ${spec.topology.nodes} ${describeNodes({ server: spec.topology.server, userServer: shownUserServer(spec.topology.userServer, spec.driver) })}) — keeper pid ${keeper.pid}, folder ${dir}\n`);
  const deadline = Date.now() + (opts.upTimeoutMs ?? CLUSTER_UP_DEFAULTS.upTimeout);
  // Ctrl-C while starting: the keeper is told to stop (it undoes what it started), and this command fails.
  let interrupted = false;
  const onSignal = () => (interrupted = true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await waitUp();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  async function waitUp(): Promise<number> {
    for (;;) {
      if (interrupted) {
        try {
          process.kill(keeper.pid!, 'SIGTERM');
        } catch {
          // gone
        }
        while (exited === undefined && Date.now() < deadline) await sleep(100);
        throw new WsbenchError('WSB_INTERRUPTED', `interrupted: cluster ${spec.id} was told to stop while starting`, { hint: `see ${join(dir, 'logs', 'keeper.log')}` });
      }
      const s = readClusterState(dir);
      if (s?.state === 'up') {
        printCluster(io, s, dir);
        return 0;
      }
      if (s?.state === 'failed' || exited !== undefined) {
        const err = s?.error;
        throw new WsbenchError((err?.code as 'WSB_CLUSTER_FAILED') ?? 'WSB_CLUSTER_FAILED', `cluster ${spec.id} did not come up: ${err?.message ?? `its keeper exited (code ${exited})`}`, {
          hint: err?.hint ?? `see ${join(dir, 'logs', 'keeper.log')}`,
        });
      }
      if (Date.now() > deadline) {
        try {
          process.kill(keeper.pid!, 'SIGTERM');
        } catch {
          // gone
        }
        throw new WsbenchError('WSB_CLUSTER_FAILED', `cluster ${spec.id} was not up after ${opts.upTimeoutMs ?? CLUSTER_UP_DEFAULTS.upTimeout} ms; its keeper was told to stop`, { hint: `see ${join(dir, 'logs', 'keeper.log')}` });
      }
      await sleep(100);
    }
  }
}

/** The keeper (`wsbench cluster serve <dir>`): starts the cluster, holds it, tears it down on SIGTERM/SIGINT. */
export async function clusterServe(dir: string): Promise<number> {
  const spec = JSON.parse(readFileSync(join(dir, 'cluster-spec.json'), 'utf8')) as ClusterSpec;
  const jwtSecretFile = join(dir, JWT_SECRET_FILE);
  const topology = { ...spec.topology, jwtSecret: readFileSync(jwtSecretFile, 'utf8').trim() };
  const startedAt = new Date().toISOString();
  const keeper = { pid: process.pid, startTime: processIdentity(process.pid)?.startTime };
  const pids: number[] = [];
  const recordPids = () => writeFileSync(join(dir, 'pids.json'), `${JSON.stringify({ ...pidsRecord(spec.id, spec.driver, pids), kind: 'cluster' }, null, 2)}\n`);
  const userServer = shownUserServer(spec.topology.userServer, spec.driver);
  const base = { id: spec.id, driver: spec.driver, server: topology.server, ...(userServer ? { userServer } : {}), ...(topology.adapter ? { adapter: topology.adapter } : {}), serverOptions: topology.serverOptions, jwtSecretFile, keeper, startedAt };
  const write = (s: ClusterState) => writeFileSync(join(dir, 'cluster.json'), `${JSON.stringify(s, null, 2)}\n`);
  const controller = new AbortController();
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const onSignal = () => {
    controller.abort();
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => undefined);
  let cluster: StartedCluster | undefined;
  try {
    const driver = spec.driver === 'docker' ? new (await import('../cluster/docker-driver.js')).DockerDriver(spec.docker) : new LocalDriver();
    cluster = await driver.start(topology, {
      runId: spec.id,
      runDir: dir,
      signal: controller.signal,
      onProcess: (pid) => {
        pids.push(pid);
        recordPids();
      },
    });
    pids.splice(0, pids.length, ...cluster.pids());
    recordPids();
    write({
      ...base,
      state: 'up',
      nodes: cluster.nodes.map((n) => ({ id: n.id, url: n.url })),
      url: cluster.url,
      redis: cluster.redis.url,
      versions: cluster.versions,
    });
    process.stdout.write(`cluster ${spec.id} up at ${cluster.url}\n`);
  } catch (e) {
    const err = isWsbenchError(e) ? e : new WsbenchError('WSB_CLUSTER_FAILED', (e as Error).message);
    process.stdout.write(`cluster ${spec.id} failed: ${err.code} ${err.message}\n`);
    if (cluster) await cluster.down();
    write({ ...base, state: 'failed', nodes: [], url: '', redis: '', versions: {}, error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } });
    return 2;
  }
  const keepAlive = setInterval(() => undefined, 60_000);
  await stopped;
  clearInterval(keepAlive);
  process.stdout.write(`cluster ${spec.id}: stopping\n`);
  const errors = await cluster.down();
  for (const e of errors) process.stdout.write(`teardown: ${e.message}\n`);
  const prev = readClusterState(dir)!;
  write({ ...prev, state: 'down', stoppedAt: new Date().toISOString() });
  process.stdout.write(`cluster ${spec.id}: down\n`);
  return errors.length ? 2 : 0;
}

/** `wsbench cluster down [<id>]`: tells the keeper to stop, waits, and kills what is left if it must. */
export async function clusterDown(ref: string | undefined, flags: { results?: string }, io: ClusterIO, opts: { timeoutMs?: number } = {}): Promise<number> {
  const c = resolveCluster(ref, flags.results ?? CLUSTER_RESULTS_DIR);
  if (!c.live) {
    if (c.state.state !== 'up') {
      io.stdout.write(`cluster ${c.state.id} is not up (state ${c.state.state})\n`);
      return 0;
    }
    // Its keeper was killed (kill -9, a reboot of the session): what it started may still run.
    io.stderr.write(`cluster ${c.state.id}: its keeper (pid ${c.state.keeper.pid}) is gone; removing what it started\n`);
  } else {
    process.kill(c.state.keeper.pid, 'SIGTERM');
    const deadline = Date.now() + (opts.timeoutMs ?? CLUSTER_UP_DEFAULTS.downTimeout);
    while (keeperAlive(c.state) && Date.now() < deadline) await sleep(100);
    if (!keeperAlive(c.state)) {
      io.stdout.write(`cluster ${c.state.id} down\n`);
      return readClusterState(c.dir)?.state === 'down' ? 0 : 2;
    }
    io.stderr.write(`cluster ${c.state.id}: keeper did not stop within ${opts.timeoutMs ?? CLUSTER_UP_DEFAULTS.downTimeout} ms; killing its processes\n`);
  }
  // The keeper is gone (or stuck): what pids.json names is swept as `wsbench clean --force` does.
  const { clean } = await import('../cluster/clean.js');
  const r = await clean({ dirs: [c.dir], runId: c.state.id, force: true, docker: c.state.driver === 'docker' });
  for (const k of r.killed) io.stdout.write(`killed ${k.pid} (${k.cmdline.slice(0, 80)})\n`);
  for (const f of r.failed) io.stderr.write(`failed ${f}\n`);
  if (r.failed.length) return 2;
  writeFileSync(join(c.dir, 'cluster.json'), `${JSON.stringify({ ...c.state, state: 'down', stoppedAt: new Date().toISOString() }, null, 2)}\n`);
  io.stdout.write(`cluster ${c.state.id} down\n`);
  return 0;
}

/** `wsbench cluster ls`. */
export function clusterLs(flags: { results?: string; json?: boolean }, io: ClusterIO): number {
  const all = listClusters(flags.results ?? CLUSTER_RESULTS_DIR);
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(all.map((c) => ({ ...c.state, dir: c.dir, live: c.live })), null, 2)}\n`);
    return 0;
  }
  if (!all.length) io.stdout.write('no clusters (start one with `wsbench cluster up`)\n');
  for (const c of all) {
    const st = c.live ? 'up' : c.state.state === 'up' ? 'gone (keeper dead)' : c.state.state;
    io.stdout.write(`${c.state.id}  ${st.padEnd(8)}  ${c.state.driver}  ${c.state.nodes.length} ${describeNodes(c.state)}  ${c.state.url || '-'}  ${c.dir}\n`);
  }
  return 0;
}
