import { isAbsolute, join, relative, sep } from 'node:path';
import { WsbenchError } from '../common/errors.js';
import type { DockerImages, DockerNetworkMode } from './docker-options.js';
import { FILE_LIMIT } from './local-driver.js';
import { renderNginxConfig } from './nginx-config.js';
import { SERVER_VARIANT_INFO, type Topology } from './types.js';
import { referenceNodeArgs } from './node-args.js';

export { referenceNodeArgs };

/** Where the package root (dist/ + node_modules/) is mounted in a node container. */
export const APP_DIR = '/wsbench';

/** Ports the components listen on inside their own network namespace in bridge mode. */
export const BRIDGE_PORTS = { redis: 6379, node: 3000, nginx: 8080 } as const;

/** One container, fully described before anything starts (a pure value: unit-tested). */
export interface ContainerSpec {
  /** `redis`, `node-1`, …, `nginx`. */
  component: string;
  name: string;
  image: string;
  entrypoint: string[];
  command: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** `host`, or the name of the run's bridge network (with `alias` as its DNS name there). */
  network: { mode: 'host' } | { mode: 'bridge'; name: string; alias: string };
  /** Bridge mode: container port → the host port (on 127.0.0.1) the harness chose. */
  ports: Array<{ container: number; host: number }>;
  binds: Array<{ source: string; target: string; mode: 'ro' | 'rw' }>;
  workingDir?: string;
  user?: string;
  /** Host-side address the harness probes (and clients use). */
  hostPort: number;
  /** Graceful stop (default SIGTERM, SIGKILL after 5000 ms); a user's server configures its own. */
  stop?: { signal: NodeJS.Signals; timeoutMs: number };
}

export interface ClusterSpec {
  networkName?: string;
  redis: ContainerSpec;
  nodes: ContainerSpec[];
  nginx: ContainerSpec;
  nginxConf: string;
  nginxDir: string;
  /** Redis as the nodes reach it. */
  redisUrlInside: string;
}

export interface ClusterSpecInput {
  topology: Topology;
  runId: string;
  runDir: string;
  mode: DockerNetworkMode;
  images: DockerImages;
  /** Host ports the harness chose: redis, one per node, nginx. */
  ports: { redis: number; nodes: number[]; lb: number };
  labels: (component: string) => Record<string, string>;
  /** Package root on the host (mounted read-only at APP_DIR). */
  appDir: string;
  /**
   * Host folders the package root links to outside itself (a `node_modules` that is a symlink, as
   * in a git worktree sharing another checkout's), mounted read-only at the same path so that the
   * absolute link resolves inside the container too (`linkedDirsOf`). Default none.
   */
  linkedDirs?: string[];
  /** Host user, when not root: nginx writes into the run folder as this user. */
  user?: string;
  /** What runs a reference node, with paths inside the container (see `nodeProgram`). */
  nodeProgram: { entrypoint: string[]; args: string[] };
}

/**
 * The folders `node_modules` of the package root really is when it is a link pointing outside the
 * root (a git worktree sharing another checkout's `node_modules`): a link the container could not
 * follow, since only the root is mounted (an absolute link: mounted at its own path it resolves).
 * `real` is the host's realpath, null when the path does not exist (injectable for tests).
 */
export function linkedDirsOf(appDir: string, real: (p: string) => string | null): string[] {
  const link = join(appDir, 'node_modules');
  const target = real(link);
  if (target === null) return [];
  const rel = relative(real(appDir) ?? appDir, target);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? [] : [target];
}

/**
 * The program of a reference node per server variant, as the local driver runs it: main.js under
 * Node (`--server socketio|ws`), or bun-main.js under the bun binary the `bun` npm dependency ships —
 * found in node_modules/, so inside the container too (the package root is mounted at APP_DIR).
 */
export function nodeProgram(t: Topology, appDir: string, bunBinary: () => string): { entrypoint: string[]; args: string[] } {
  if (SERVER_VARIANT_INFO[t.server].runtime !== 'bun') {
    return { entrypoint: ['node'], args: [`${APP_DIR}/dist/reference-server/main.js`, '--server', t.server] };
  }
  const bun = bunBinary();
  const rel = relative(appDir, bun);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new WsbenchError('WSB_MISSING_BINARY', `bun (${bun}) is outside the package folder, so it cannot be mounted into the node containers`, {
      hint: 'run `npm ci` (the `bun` npm package ships the binary into node_modules/)',
    });
  }
  return { entrypoint: [`${APP_DIR}/${rel.split(sep).join('/')}`], args: [`${APP_DIR}/dist/reference-server/bun-main.js`] };
}

/**
 * Describes every container of the cluster. Host mode: every part listens on the 127.0.0.1 port
 * the harness chose, exactly as the local driver's processes do. Bridge mode: every part listens
 * on its usual port inside the run's network, reached by alias (`redis`, `node-1`, `nginx`), and
 * publishes it on 127.0.0.1 at the port the harness chose.
 */
export function clusterSpec(i: ClusterSpecInput): ClusterSpec {
  const t = i.topology;
  const host = i.mode === 'host';
  const networkName = host ? undefined : `wsb-${i.runId}`;
  const net = (alias: string): ContainerSpec['network'] => (host ? { mode: 'host' } : { mode: 'bridge', name: networkName!, alias });
  const name = (component: string) => `wsb-${i.runId}-${component}`;
  const listen = host ? '127.0.0.1' : '0.0.0.0';

  const redisPort = host ? i.ports.redis : BRIDGE_PORTS.redis;
  const redis: ContainerSpec = {
    component: 'redis',
    name: name('redis'),
    image: i.images.redis,
    entrypoint: ['redis-server'],
    command: ['--port', String(redisPort), '--bind', listen, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--maxclients', '10000'],
    env: {},
    labels: i.labels('redis'),
    network: net('redis'),
    ports: host ? [] : [{ container: BRIDGE_PORTS.redis, host: i.ports.redis }],
    binds: [],
    hostPort: i.ports.redis,
  };
  const redisUrlInside = host ? `redis://127.0.0.1:${redisPort}` : `redis://redis:${BRIDGE_PORTS.redis}`;

  const nodes = i.ports.nodes.map((hostPort, k): ContainerSpec => {
    const nodeId = `node-${k + 1}`;
    const port = host ? hostPort : BRIDGE_PORTS.node;
    return {
      component: nodeId,
      name: name(nodeId),
      image: i.images.node,
      entrypoint: i.nodeProgram.entrypoint,
      command: [...i.nodeProgram.args, ...referenceNodeArgs(t, { port, host: listen, redisUrl: redisUrlInside, nodeId })],
      // The secret goes by environment, not argv, as with the local driver.
      env: { WSB_JWT_SECRET: t.jwtSecret, NODE_ENV: 'production' },
      labels: i.labels(nodeId),
      network: net(nodeId),
      ports: host ? [] : [{ container: BRIDGE_PORTS.node, host: hostPort }],
      binds: [{ source: i.appDir, target: APP_DIR, mode: 'ro' }, ...(i.linkedDirs ?? []).map((d) => ({ source: d, target: d, mode: 'ro' as const }))],
      workingDir: APP_DIR,
      hostPort,
    };
  });

  // The config lives in the run folder, mounted at the same path: paths in it mean the same inside.
  const nginxDir = join(i.runDir, 'nginx');
  const so = t.serverOptions;
  const nginxConf = renderNginxConfig({
    prefix: nginxDir,
    listenPort: host ? i.ports.lb : BRIDGE_PORTS.nginx,
    listenHost: listen,
    upstreams: host ? i.ports.nodes.map((port) => ({ host: '127.0.0.1', port })) : nodes.map((n) => ({ host: n.component, port: BRIDGE_PORTS.node })),
    policy: t.lbPolicy,
    expectedConnections: t.expectedConnections,
    fileLimit: FILE_LIMIT,
    pingWindowMs: so.pingInterval + so.pingTimeout,
  });
  const nginx: ContainerSpec = {
    component: 'nginx',
    name: name('nginx'),
    image: i.images.nginx,
    entrypoint: ['nginx'],
    command: ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf'), '-e', join(nginxDir, 'error.log')],
    env: {},
    labels: i.labels('nginx'),
    network: net('nginx'),
    ports: host ? [] : [{ container: BRIDGE_PORTS.nginx, host: i.ports.lb }],
    binds: [{ source: nginxDir, target: nginxDir, mode: 'rw' }],
    ...(i.user ? { user: i.user } : {}),
    hostPort: i.ports.lb,
  };
  return { networkName, redis, nodes, nginx, nginxConf, nginxDir, redisUrlInside };
}
