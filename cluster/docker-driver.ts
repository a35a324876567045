import { chmodSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wait } from 'testcontainers';
import { WsbenchError } from '../common/errors.js';
import { DisposerStack } from '../common/disposer-stack.js';
import { packageRoot } from '../common/paths.js';
import { logger } from '../common/logger.js';
import { ComponentContainer, dockerMessage, type Readiness } from './component-container.js';
import { chooseNetworkMode, connectEngine, ensureImage, removeRun, runLabels } from './docker-engine.js';
import { DOCKER_DEFAULTS, type DockerDriverOptions, type DockerImages, type DockerNetworkMode } from './docker-options.js';
import { BRIDGE_PORTS, clusterSpec, linkedDirsOf, nodeProgram, type ContainerSpec } from './docker-spec.js';
import { forHttpOnHost, forRedisPing } from './container-wait.js';
import { getFreePortBelowEphemeral, isPortInUse } from './ports.js';
import { scrapeNodeMetrics } from './prom-metrics.js';

export { scrapeNodeMetrics };
import { waitForHttp } from './wait.js';
import { userNodeMetrics } from './user-node.js';
import { userNodeReadiness, userNodeSpec } from './user-container.js';

/** The port a user's node listens on inside its container on a bridge network (PORT says so). */
import { bunBinary } from '../common/binaries.js';
import type { ClusterDriver, ClusterNode, NodeMetrics, StartedCluster, Topology } from './types.js';

const log = logger('docker');

export { DOCKER_DEFAULTS, DOCKER_IMAGE_DEFAULTS, type DockerDriverOptions, type DockerImages } from './docker-options.js';
export { APP_DIR, clusterSpec, nodeProgram, referenceNodeArgs, type ClusterSpec, type ClusterSpecInput, type ContainerSpec } from './docker-spec.js';


class DockerNode implements ClusterNode {
  readonly url: string;
  readonly port: number;
  readonly healthPath?: string | null;

  constructor(
    readonly id: string,
    private readonly box: ComponentContainer,
    host: string,
    /** Runs after the node is ready again (bridge mode: nginx re-resolves the node's name). */
    private readonly afterStart: () => Promise<void> = async () => undefined,
    /** A user's server: its metrics path (absent: node metrics unknown) and its HTTP readiness path. */
    private readonly user?: { metrics?: string; healthPath: string | null },
  ) {
    this.port = box.spec.hostPort;
    if (user) this.healthPath = user.healthPath;
    this.url = `http://${host}:${this.port}`;
  }

  /** Container id (docker ps). */
  get containerId(): string | undefined {
    return this.box.id;
  }

  pid(): number | undefined {
    return this.box.pid();
  }

  /** The engine's own word on a pause (a frozen container's processes are not in state T). */
  frozen(): Promise<boolean> {
    return this.box.enginePaused();
  }

  running(): boolean {
    return this.box.running();
  }

  kill(): Promise<void> {
    return this.box.kill();
  }

  stop(): Promise<void> {
    return this.box.stop();
  }

  async start(): Promise<void> {
    await this.box.start();
    await this.afterStart();
  }

  pause(): Promise<void> {
    return this.box.pause();
  }

  resume(): Promise<void> {
    return this.box.resume();
  }

  async metrics(): Promise<NodeMetrics> {
    return this.user ? userNodeMetrics(this.id, this.url, this.running(), this.user.metrics) : scrapeNodeMetrics(this.id, this.url, this.running());
  }
}


/** A StartedCluster from the docker driver: the containers are reachable for tests and `doctor`. */
export interface StartedDockerCluster extends StartedCluster {
  readonly network: { mode: DockerNetworkMode; why: string; name?: string };
  /** Component → container id. */
  containers(): Record<string, string | undefined>;
}

/**
 * Starts the cluster in containers through testcontainers: Redis, N reference nodes (the project's
 * built reference server, bind-mounted read-only into a Node image) and NGINX with the generated
 * config — the same topology, readiness rules, error codes and StartedCluster contract as the
 * local driver. Every container carries the run's labels; every one is on a disposer stack, and
 * teardown ends with a sweep of whatever carries the run's label.
 */
export class DockerDriver implements ClusterDriver {
  readonly name = 'docker' as const;
  private readonly opts: DockerDriverOptions;

  constructor(opts: Partial<Omit<DockerDriverOptions, 'images'>> & { images?: Partial<DockerImages> } = {}) {
    this.opts = { ...DOCKER_DEFAULTS, ...opts, images: { ...DOCKER_DEFAULTS.images, ...(opts.images ?? {}) } };
  }

  async start(topology: Topology, opts: { runId: string; runDir: string; signal?: AbortSignal }): Promise<StartedDockerCluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(topology, opts);
      } catch (e) {
        // A port the harness chose was taken before the container bound it (another program's
        // listener): everything is already torn down, so choose ports again. A --lb-port is the user's.
        const harnessPort = !(topology.lbPort !== 0 && /^nginx|load balancer/.test((e as Error).message));
        if (e instanceof WsbenchError && e.code === 'WSB_PORT_IN_USE' && harnessPort && attempt < 3 && !opts.signal?.aborted) {
          log(`${e.message}; starting again on other ports`);
          continue;
        }
        throw e;
      }
    }
  }

  private async startOnce(topology: Topology, opts: { runId: string; runDir: string; signal?: AbortSignal }): Promise<StartedDockerCluster> {
    const engine = await connectEngine();
    const client = engine.client;
    const network = chooseNetworkMode(this.opts.network, { platform: process.platform, ...engine });
    const user = topology.userServer;
    log(`network: ${network.mode} (${network.why})`);
    if (network.mode === 'bridge' && (topology.lbPolicy === 'ip_hash' || topology.lbPolicy === 'hash')) {
      throw new WsbenchError('WSB_INVALID_OPTION', `--lb-policy ${topology.lbPolicy} cannot spread clients on a bridge network (${network.why}): Docker's port forwarding gives nginx one client address for every connection`, {
        hint: 'use --lb-policy least_conn (or round_robin), or --docker-network host on a Linux engine',
      });
    }
    const appDir = packageRoot();
    if (!existsSync(join(appDir, 'dist', 'reference-server', 'main.js'))) {
      throw new WsbenchError('WSB_INTERNAL', `the reference server is not built (${join(appDir, 'dist', 'reference-server', 'main.js')} is missing)`, { hint: 'run `npm run build`' });
    }
    const imageIds = {
      redis: await ensureImage(client, this.opts.images.redis, this.opts.pull, '--redis-image'),
      nginx: await ensureImage(client, this.opts.images.nginx, this.opts.pull, '--nginx-image'),
      node: user ? await ensureImage(client, user.image!, this.opts.pull, '--server-image') : await ensureImage(client, this.opts.images.node, this.opts.pull, '--node-image'),
    };
    if (topology.lbPort !== 0 && (await isPortInUse(topology.lbPort))) {
      throw new WsbenchError('WSB_PORT_IN_USE', `load balancer port 127.0.0.1:${topology.lbPort} is already in use`, {
        hint: 'choose another --lb-port, or omit it to let wsbench pick a free port',
      });
    }

    const logsDir = join(opts.runDir, 'logs');
    mkdirSync(logsDir, { recursive: true });
    const stack = new DisposerStack();
    const checkAbort = () => {
      if (opts.signal?.aborted) throw new WsbenchError('WSB_INTERRUPTED', 'interrupted while starting the cluster');
    };
    // Last to run: whatever still carries the run's label (a container whose start failed half-way).
    stack.push('containers labelled with the run id', async () => {
      const removed = await removeRun(client, opts.runId);
      if (removed.length) log(`swept ${removed.join(', ')}`);
    });

    return stack.startOrUndo(async () => {
      // Below the ephemeral range: a container takes a moment to bind, and outgoing connections
      // (thousands during a load run) would otherwise be able to take the port meanwhile.
      const taken = new Set<number>();
      const freePort = async () => {
        for (;;) {
          const p = await getFreePortBelowEphemeral();
          if (!taken.has(p)) {
            taken.add(p);
            return p;
          }
        }
      };
      const ports = { redis: await freePort(), nodes: [] as number[], lb: topology.lbPort || (await freePort()) };
      for (let k = 0; k < topology.nodes; k++) ports.nodes.push(await freePort());
      const uid = process.getuid?.();
      const reference = clusterSpec({
        topology,
        runId: opts.runId,
        runDir: opts.runDir,
        mode: network.mode,
        images: this.opts.images,
        ports,
        labels: (component) => runLabels(opts.runId, component),
        appDir,
        linkedDirs: linkedDirsOf(appDir, (p) => {
          try {
            return realpathSync(p);
          } catch {
            return null;
          }
        }),
        nodeProgram: nodeProgram(topology, appDir, bunBinary),
        ...(uid !== undefined && uid !== 0 ? { user: `${uid}:${process.getgid?.() ?? uid}` } : {}),
      });
      // A user's server: their image in place of each reference node, with the same environment as a local command gets.
      const spec = user
        ? {
            ...reference,
            nodes: reference.nodes.map((s) => userNodeSpec(s, user, { port: network.mode === 'host' ? s.hostPort : BRIDGE_PORTS.node, redisUrl: reference.redisUrlInside, jwtSecret: topology.jwtSecret, runId: opts.runId })),
          }
        : reference;
      const probeHost = network.mode === 'host' ? '127.0.0.1' : client.info.containerRuntime.host;

      if (spec.networkName) {
        const name = spec.networkName;
        await client.network.create({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: runLabels(opts.runId, 'network') });
        stack.push(`network ${name}`, async () => {
          await client.network.remove(client.network.getById(name)).catch(() => undefined);
        });
      }

      const boxes: ComponentContainer[] = [];
      const box = (s: ContainerSpec, readiness: Readiness, onStack = true) => {
        const b = new ComponentContainer(s, engine, join(logsDir, `${s.component}.log`), readiness, topology.readyTimeoutMs);
        boxes.push(b);
        if (onStack) stack.push(s.name, () => b.remove());
        return b;
      };

      // --- Redis -------------------------------------------------------------------------------
      const redis = box(spec.redis, {
        code: 'WSB_REDIS_NOT_READY',
        strategy: () => Wait.forAll([Wait.forLogMessage(/Ready to accept connections/), forRedisPing(probeHost, spec.redis.hostPort)]),
      });
      let redisVersion = 'unknown';
      const offRedis = redis.onLine((l) => {
        const m = /Redis version=([^,\s]+)/.exec(l);
        if (m) redisVersion = m[1];
      });
      await redis.create();
      offRedis();
      log(`redis ready on ${spec.redis.hostPort}`);
      checkAbort();

      // --- Reference nodes ---------------------------------------------------------------------
      let nodeVersions: Record<string, string> = {};
      const nodeBoxes = spec.nodes.map((s) =>
        box(
          s,
          user
            ? userNodeReadiness(user, probeHost, s.hostPort)
            : {
                code: 'WSB_NODE_NOT_READY',
                strategy: () => Wait.forAll([Wait.forLogMessage(/"event":"listening"/), forHttpOnHost(`http://${probeHost}:${s.hostPort}/health`)]),
              },
          false,
        ),
      );
      // One closer for all nodes: their graceful shutdowns overlap instead of adding up.
      stack.push('reference node containers', async () => {
        const failed = (await Promise.allSettled(nodeBoxes.map((b) => b.remove()))).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed.length) throw new Error(failed.map((f) => dockerMessage(f.reason)).join('; '));
      });
      const off = nodeBoxes[0].onLine((l) => {
        if (!l.startsWith('{')) return;
        try {
          const v = JSON.parse(l) as { event?: string; versions?: Record<string, string> };
          if (v.event === 'listening') nodeVersions = v.versions ?? {};
        } catch {
          // not the listening line
        }
      });
      await Promise.all(nodeBoxes.map((b) => b.create()));
      off();
      checkAbort();

      // --- NGINX -------------------------------------------------------------------------------
      const nginxDir = spec.nginxDir;
      for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(nginxDir, 'tmp', d), { recursive: true });
      // Workers run as nobody when the master is root; they must be able to use the temp folders.
      chmodSync(nginxDir, 0o755);
      for (const d of ['', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) chmodSync(join(nginxDir, 'tmp', d), 0o777);
      writeFileSync(join(nginxDir, 'nginx.conf'), spec.nginxConf);
      const lbUrl = `http://${probeHost}:${spec.nginx.hostPort}`;
      const nginx = box(spec.nginx, { code: 'WSB_LB_NOT_READY', strategy: () => forHttpOnHost(`${lbUrl}/nginx-health`) });
      await nginx.create().catch((e: unknown) => {
        if (e instanceof WsbenchError && e.code === 'WSB_PROCESS_EXITED' && /Address already in use/i.test(nginx.lastLines())) {
          throw new WsbenchError('WSB_PORT_IN_USE', `nginx could not listen on 127.0.0.1:${spec.nginx.hostPort}: address already in use`, {
            hint: 'choose another --lb-port, or omit it to let wsbench pick a free port',
          });
        }
        throw e;
      });
      // Through the balancer to a node: proves the upstream block works, not only nginx itself (a
      // user's server: through its own HTTP ready path, when it has one).
      const throughPath = user ? (user.ready.kind === 'http' ? user.ready.path : undefined) : '/health';
      if (throughPath !== undefined && !(await waitForHttp(`${lbUrl}${throughPath}`, topology.readyTimeoutMs, 100, opts.signal, true))) {
        checkAbort();
        throw new WsbenchError('WSB_LB_NOT_READY', `nginx on ${spec.nginx.hostPort} does not reach any node's ${throughPath} after ${topology.readyTimeoutMs} ms`, {
          hint: `see ${join(nginxDir, 'error.log')}`,
        });
      }
      checkAbort();

      const nginxVersion = /nginx\/(\S+)/.exec(await nginx.exec(['nginx', '-v']).catch(() => ''))?.[1] ?? 'unknown';
      const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
      const versions: Record<string, string> = {
        // The nodes' own runtime (absent for bun, whose listening line names bun instead).
        ...(nodeVersions.node ? { node: nodeVersions.node } : {}),
        redis: redisVersion,
        nginx: nginxVersion,
        ...Object.fromEntries(Object.entries(nodeVersions).filter(([k]) => k !== 'node')),
        docker: engine.serverVersion,
        'image:redis': `${this.opts.images.redis} (${short(imageIds.redis)})`,
        ...(user ? { 'image:server': `${user.image} (${short(imageIds.node)})` } : { 'image:node': `${this.opts.images.node} (${short(imageIds.node)})` }),
        'image:nginx': `${this.opts.images.nginx} (${short(imageIds.nginx)})`,
      };
      // On a bridge network a restarted container may get another address; nginx resolved the
      // upstream names when it started, and a reload (SIGHUP) makes its new workers resolve them again.
      const afterNodeStart = network.mode === 'bridge' ? () => nginx.signal('SIGHUP') : undefined;
      const nodes = nodeBoxes.map((b) => new DockerNode(b.name, b, probeHost, afterNodeStart, user ? { ...(user.metrics !== undefined ? { metrics: user.metrics } : {}), healthPath: user.ready.kind === 'http' ? user.ready.path : null } : undefined));
      log(`cluster up (${network.mode} network): lb ${spec.nginx.hostPort}, nodes ${ports.nodes.join(',')}, redis ${spec.redis.hostPort}`);

      const cluster: StartedDockerCluster = {
        runId: opts.runId,
        url: lbUrl,
        nodes,
        redis: {
          url: `redis://${probeHost}:${spec.redis.hostPort}`,
          port: spec.redis.hostPort,
          pid: () => redis.pid(),
          stop: () => redis.stop(),
          start: () => redis.start(),
        },
        lb: {
          port: spec.nginx.hostPort,
          pid: () => nginx.pid(),
          policy: topology.lbPolicy,
          // SIGTERM is nginx's fast shutdown: every proxied connection drops at once.
          stop: () => nginx.stop(),
          start: () => nginx.start(),
          // SIGHUP: new workers take new connections; old ones keep theirs until they close.
          reload: () => nginx.signal('SIGHUP'),
        },
        versions,
        network: { ...network, ...(spec.networkName ? { name: spec.networkName } : {}) },
        containers: () => Object.fromEntries(boxes.map((b) => [b.name, b.id])),
        pids: () => boxes.map((b) => b.pid()).filter((p): p is number => p !== undefined),
        metrics: () => Promise.all(nodes.map((n) => n.metrics())),
        ...stack.closers(),
      };
      return cluster;
    }, (e) => log(`teardown after failed start: ${e.message}`));
  }
}
