/** `wsbench run` flags for running past one machine: `--cluster <id>`, `--shard i/N`, `--start-at <time>`. */
import { commandText, redactServer } from './user-server.js';
import { redactCommand } from './redact.js';
import { resolveCluster, readClusterSecret } from '../cluster/persistent.js';
import type { ServerKind, ServerOptions, SocketIoAdapter } from '../cluster/types.js';
import { isWsbenchError } from '../common/errors.js';
import { parseShard, planIdOf, shardProblems, shareOf, type ShardPlan } from '../load/shard-plan.js';

export type { ShardPlan };
import type { Scenario } from '../scenarios/index.js';

export interface ClusterTarget {
  id: string;
  url: string;
  nodeUrls: string[];
  jwtSecret: string;
  server: ServerKind;
  adapter?: SocketIoAdapter;
  serverOptions: ServerOptions;
  /** The cluster's nodes are the user's server (cluster.json `userServer`): its command or image. */
  userServer?: { command?: string; image?: string };
}

/** `--cluster <id|folder>` → the running cluster's URLs and secret; problems go to `problems`. */
export function resolveClusterTarget(
  r: { cluster?: string; url?: string; nodeUrls?: unknown; server?: unknown },
  given: Record<string, unknown>,
  problems: string[],
): ClusterTarget | undefined {
  if ('url' in given || 'nodeUrls' in given) {
    problems.push('--cluster: names the cluster already; drop --url / --node-urls');
    return undefined;
  }
  try {
    const c = resolveCluster(r.cluster);
    if (!c.live) {
      problems.push(`--cluster ${r.cluster}: cluster ${c.state.id} is not up (state ${c.state.state}); start one with \`wsbench cluster up\``);
      return undefined;
    }
    if ('server' in given) {
      const g = given.server as unknown;
      const u = c.state.userServer;
      const gu = typeof g === 'object' && g !== null ? (g as { command?: string | string[]; image?: string }) : undefined;
      // A user's server: the run's own `server` (its config, --server-command) must be the one the cluster runs.
      const same = u === undefined ? g === c.state.server : gu !== undefined && (u.image !== undefined ? gu.image === u.image : gu.command !== undefined && redactCommand(commandText(gu.command)) === u.command);
      const runs = u === undefined ? `${c.state.server} nodes` : `your server's nodes (${u.image ?? u.command})`;
      if (!same) problems.push(`--server ${typeof g === 'string' ? g : JSON.stringify(redactServer(g))}: cluster ${c.state.id} runs ${runs}`);
    }
    return {
      id: c.state.id,
      url: c.state.url,
      nodeUrls: c.state.nodes.map((n) => n.url),
      jwtSecret: readClusterSecret(c.state),
      server: c.state.server,
      ...(c.state.adapter ? { adapter: c.state.adapter } : {}),
      serverOptions: c.state.serverOptions,
      ...(c.state.userServer ? { userServer: c.state.userServer } : {}),
    };
  } catch (e) {
    if (!isWsbenchError(e)) throw e;
    problems.push(`--cluster ${r.cluster}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`);
    return undefined;
  }
}

/** `--shard` / `--start-at` → the shard's share (without its plan id, which needs the targets). */
export function resolveShard(
  scenario: Scenario<any>,
  r: { shard?: string; startAt?: string; nodes: number; engine: string },
  options: Record<string, unknown>,
  problems: string[],
): Omit<ShardPlan, 'planId'> | undefined {
  let startAtMs: number | undefined;
  if (r.startAt !== undefined) {
    startAtMs = Date.parse(r.startAt);
    if (!Number.isFinite(startAtMs) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(r.startAt)) {
      problems.push(`--start-at ${r.startAt}: expected an ISO time with its zone, e.g. ${new Date(Date.now() + 30_000).toISOString().replace(/\.\d+Z$/, 'Z')}`);
      startAtMs = undefined;
    }
  }
  if (r.shard === undefined) {
    if (r.startAt !== undefined) problems.push('--start-at: only applies with --shard');
    return undefined;
  }
  const ref = parseShard(r.shard);
  if (typeof ref === 'string') {
    problems.push(ref);
    return undefined;
  }
  if (!scenario.shardable) {
    problems.push(`--shard: ${scenario.name} cannot be sharded (shardable: cross-node-broadcast — a room's publisher and members stay in one shard)`);
    return undefined;
  }
  if (r.engine !== 'node' && r.engine !== 'k6') {
    problems.push(`--shard: the ${r.engine} engine cannot shard (--engine node or k6)`);
    return undefined;
  }
  const o = options as { connections: number; rooms: number; publishersPerRoom: number };
  problems.push(...shardProblems(o, ref, r.nodes));
  return { ref, share: shareOf(o, ref), ...(startAtMs !== undefined ? { startAt: r.startAt, startAtMs } : {}) };
}

/** The plan id of a shard plan: scenario, options, shard count, engine, server, targets, agreed start. */
export function withPlanId(s: Omit<ShardPlan, 'planId'>, p: { scenario: string; options: Record<string, unknown>; engine: string; server: string; targets: Array<{ id: string; value: number }> }): ShardPlan {
  return { ...s, planId: planIdOf({ ...p, count: s.ref.count, targets: p.targets.map((t) => ({ id: t.id, value: t.value })), ...(s.startAt ? { startAt: new Date(s.startAtMs!).toISOString() } : {}) }) };
}
