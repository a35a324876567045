/**
 * A cluster that stays up (`wsbench cluster up`): its state on disk, so that `wsbench cluster
 * down`, `wsbench cluster ls`, `wsbench run --cluster <id>` and `wsbench clean` can find it.
 *
 * The cluster is held by one detached wsbench process (`wsbench cluster serve`, the *keeper*):
 * it starts the cluster with the usual driver (local or docker), writes `cluster.json` once every
 * part is ready, and tears everything down on SIGTERM/SIGINT. Its pid is the owner in `pids.json`,
 * so `wsbench clean` leaves a live cluster alone (as it leaves a running `wsbench run` alone).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WsbenchError } from '../common/errors.js';
import { sameProcess } from './process-identity.js';
import type { ServerKind, ServerOptions, SocketIoAdapter, Topology } from './types.js';
import type { DockerDriverOptions } from './docker-options.js';

/** Folder that holds cluster folders by default (`wsbench-results/cluster-<id>`). */
export const CLUSTER_RESULTS_DIR = 'wsbench-results';
/** Prefix of a cluster's folder name. */
export const CLUSTER_DIR_PREFIX = 'cluster-';
/** File in the cluster folder that holds the JWT secret (mode 0600). */
export const JWT_SECRET_FILE = 'jwt-secret';

/** What `cluster up` hands the keeper (`<dir>/cluster-spec.json`); the secret is in its own file. */
export interface ClusterSpec {
  id: string;
  driver: 'local' | 'docker';
  topology: Omit<Topology, 'jwtSecret'>;
  docker?: DockerDriverOptions;
}

/** `<dir>/cluster.json`: written by the keeper when the cluster is up, updated when it is down. */
export interface ClusterState {
  id: string;
  state: 'up' | 'down' | 'failed';
  driver: 'local' | 'docker';
  /** The reference variant; with `userServer`, the protocol spoken to the user's nodes when a run gives no profile. */
  server: ServerKind;
  /** The user's server as the nodes (`cluster up --server-command | --server-image`, a config's `server` object): its command (credentials redacted) or image. */
  userServer?: { command?: string; image?: string };
  adapter?: SocketIoAdapter;
  nodes: Array<{ id: string; url: string }>;
  /** URL through the load balancer. */
  url: string;
  redis: string;
  serverOptions: ServerOptions;
  /** Absolute path of the file holding the JWT secret. */
  jwtSecretFile: string;
  /** pid of the keeper process and its start time (/proc stat field 22). */
  keeper: { pid: number; startTime?: number };
  startedAt: string;
  stoppedAt?: string;
  error?: { code: string; message: string; hint?: string };
  versions: Record<string, string>;
}

/** A cluster folder with its state, as `cluster ls` shows it. */
export interface ClusterEntry {
  dir: string;
  state: ClusterState;
  /** The keeper still runs: the cluster is up. */
  live: boolean;
}

export function newClusterId(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const hex = Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${ts}-${hex}`;
}

export function readClusterState(dir: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export function keeperAlive(s: Pick<ClusterState, 'keeper'>): boolean {
  if (s.keeper.startTime !== undefined && process.platform === 'linux') return sameProcess({ pid: s.keeper.pid, startTime: s.keeper.startTime });
  try {
    process.kill(s.keeper.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every cluster folder under `resultsDir`, most recent first. */
export function listClusters(resultsDir = CLUSTER_RESULTS_DIR): ClusterEntry[] {
  let names: string[] = [];
  try {
    names = readdirSync(resultsDir).filter((n) => n.startsWith(CLUSTER_DIR_PREFIX));
  } catch {
    return [];
  }
  const out: ClusterEntry[] = [];
  for (const n of names) {
    const dir = resolve(resultsDir, n);
    const state = readClusterState(dir);
    if (!state) continue;
    out.push({ dir, state, live: state.state === 'up' && keeperAlive(state) });
  }
  return out.sort((a, b) => (statSync(b.dir).mtimeMs - statSync(a.dir).mtimeMs) || b.state.id.localeCompare(a.state.id));
}

/**
 * The cluster `ref` names: a cluster folder (holding cluster.json), or an id under `resultsDir`;
 * without `ref`, the only live one (or, with `anyState`, the most recent one).
 */
export function resolveCluster(ref: string | undefined, resultsDir = CLUSTER_RESULTS_DIR, opts: { anyState?: boolean } = {}): ClusterEntry {
  if (ref !== undefined && existsSync(join(ref, 'cluster.json'))) {
    const state = readClusterState(ref);
    if (state) return { dir: resolve(ref), state, live: state.state === 'up' && keeperAlive(state) };
  }
  const all = listClusters(resultsDir);
  if (ref !== undefined) {
    const hit = all.find((c) => c.state.id === ref || c.dir.endsWith(`${CLUSTER_DIR_PREFIX}${ref}`));
    if (!hit) {
      throw new WsbenchError('WSB_CLUSTER_NOT_FOUND', `no cluster "${ref}" in ${resolve(resultsDir)} (and no cluster.json in a folder of that name)`, {
        hint: `see \`wsbench cluster ls\`${all.length ? ` (known: ${all.map((c) => c.state.id).join(', ')})` : ''}, or start one with \`wsbench cluster up\``,
      });
    }
    return hit;
  }
  const live = all.filter((c) => c.live);
  if (live.length === 1 || (opts.anyState && live.length === 0 && all.length > 0)) return live[0] ?? all[0];
  if (live.length > 1) {
    throw new WsbenchError('WSB_CLUSTER_NOT_FOUND', `${live.length} clusters are up (${live.map((c) => c.state.id).join(', ')}); name one`, { hint: 'give its id, e.g. `wsbench cluster down <id>`' });
  }
  throw new WsbenchError('WSB_CLUSTER_NOT_FOUND', `no cluster is up in ${resolve(resultsDir)}`, { hint: 'start one with `wsbench cluster up`' });
}

/** The secret of a cluster that is up (for `run --cluster`). */
export function readClusterSecret(s: ClusterState): string {
  try {
    return readFileSync(s.jwtSecretFile, 'utf8').trim();
  } catch (e) {
    throw new WsbenchError('WSB_CLUSTER_NOT_FOUND', `cannot read the JWT secret of cluster ${s.id} (${s.jwtSecretFile}): ${(e as Error).message}`, {
      hint: 'run as the user who started the cluster, or pass --url and WSB_JWT_SECRET',
    });
  }
}
