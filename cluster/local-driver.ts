import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WsbenchError } from '../common/errors.js';
import { DisposerStack } from '../common/disposer-stack.js';
import { distEntry } from '../common/paths.js';
import { logger } from '../common/logger.js';
import { ManagedProcess } from './managed-process.js';
import { bunBinary, requireBinary } from '../common/binaries.js';
import { getFreePort, isPortInUse } from './ports.js';
import { renderNginxConfig } from './nginx-config.js';
import { waitForHttp } from './wait.js';
import { scrapeNodeMetrics } from './prom-metrics.js';
import { rssOfTree } from './proc-stats.js';
import { referenceNodeArgs } from './node-args.js';
import { userLocalNodes, type UserLocalNode } from './user-node.js';
import { SERVER_VARIANT_INFO, type ClusterDriver, type ClusterNode, type DriverStartOptions, type NodeMetrics, type StartedCluster, type Topology } from './types.js';

const log = logger('cluster');

/** Per-process open-file limit on these machines (20,000, not raisable). */
export const FILE_LIMIT = 20_000;

interface NodeListening {
  nodeId: string;
  port: number;
  pid: number;
  versions?: Record<string, string>;
}

function parseListening(line: string): NodeListening | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as { event?: string } & NodeListening;
    return v.event === 'listening' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** First match of `re` in what `cmd args` prints on stdout or stderr (`nginx -v` uses stderr). */
function versionOf(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown';
}

/** Turns "exited before ready" into WSB_PORT_IN_USE when the process said so. */
function portInUseOr(err: unknown, proc: ManagedProcess, port: number): unknown {
  if (err instanceof WsbenchError && /address already in use|EADDRINUSE/i.test(proc.lastLines(20))) {
    return new WsbenchError('WSB_PORT_IN_USE', `${proc.name} could not listen on 127.0.0.1:${port}: address already in use`, {
      hint: 'free the port, or let wsbench pick free ports (omit --lb-port)',
    });
  }
  return err;
}

/**
 * Starts the cluster as local processes: redis-server (own port, no persistence), N reference
 * nodes on free loopback ports, and nginx with a generated config in the run folder. Every started
 * process is pushed on a disposer stack; if startup fails half-way, what was started is stopped
 * and the original error is rethrown.
 */
export class LocalDriver implements ClusterDriver {
  readonly name = 'local' as const;

  async start(topology: Topology, opts: DriverStartOptions): Promise<StartedCluster> {
    const redisBin = requireBinary('redis-server');
    const nginxBin = requireBinary('nginx');
    // The node program per variant: main.js under Node (--server socketio|ws), bun-main.js under the
    // bun binary of the `bun` npm dependency.
    const runtime = SERVER_VARIANT_INFO[topology.server].runtime;
    const nodeCommand = runtime === 'bun' ? bunBinary() : process.execPath;
    const nodeProgram =
      runtime === 'bun' ? [distEntry('reference-server/bun-main.js')] : [distEntry('reference-server/main.js'), '--server', topology.server];
    if (topology.lbPort !== 0 && (await isPortInUse(topology.lbPort))) {
      throw new WsbenchError('WSB_PORT_IN_USE', `load balancer port 127.0.0.1:${topology.lbPort} is already in use`, {
        hint: 'choose another --lb-port, or omit it to let wsbench pick a free port',
      });
    }

    const logsDir = join(opts.runDir, 'logs');
    mkdirSync(logsDir, { recursive: true });
    const stack = new DisposerStack();
    const processes = new Set<ManagedProcess>();
    const track = (p: ManagedProcess, stop: () => Promise<unknown> = () => p.stop()): ManagedProcess => {
      processes.add(p);
      if (p.pid !== undefined) opts.onProcess?.(p.pid);
      stack.push(p.name, async () => {
        await stop();
      });
      return p;
    };
    const checkAbort = () => {
      if (opts.signal?.aborted) throw new WsbenchError('WSB_INTERRUPTED', 'interrupted while starting the cluster');
    };

    return stack.startOrUndo(async () => {
      // --- Redis -----------------------------------------------------------------------------
      const redisPort = await getFreePort();
      const redisDir = join(opts.runDir, 'redis');
      mkdirSync(redisDir, { recursive: true });
      const redisArgs = ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', redisDir, '--maxclients', '10000'];
      let redisProc!: ManagedProcess;
      const redisProcs: ManagedProcess[] = [];
      const startRedis = async () => {
        redisProc = ManagedProcess.start({ name: 'redis', command: redisBin, args: redisArgs, logFile: join(logsDir, 'redis.log') });
        redisProcs.push(redisProc);
        // A Redis started again (chaos) is stopped where the first one was, after the nodes: a node
        // shut down with its Redis gone waits out its whole grace period for an adapter that cannot close.
        track(redisProc, redisProcs.length === 1 ? () => Promise.all(redisProcs.map((p) => p.stop())) : async () => undefined);
        await redisProc
          .waitForLine((l) => (/Ready to accept connections/.test(l) ? true : undefined), topology.readyTimeoutMs, 'WSB_REDIS_NOT_READY', 'see the redis log in the run folder')
          .catch((e: unknown) => {
            throw portInUseOr(e, redisProc, redisPort);
          });
      };
      await startRedis();
      const redisUrl = `redis://127.0.0.1:${redisPort}`;
      log(`redis ready on ${redisPort}`);
      checkAbort();

      // --- Reference nodes ---------------------------------------------------------------------
      const so = topology.serverOptions;
      const nodeVersions: Record<string, string> = {};
      const nodePorts = await Promise.all(Array.from({ length: topology.nodes }, () => getFreePort()));
      const user = topology.userServer;
      const nodes: Array<LocalNode | UserLocalNode> = user
        ? userLocalNodes(user, nodePorts, { redisUrl, runId: opts.runId, jwtSecret: topology.jwtSecret, logsDir, readyTimeoutMs: topology.readyTimeoutMs, signal: opts.signal, track })
        : nodePorts.map(
        (port, i) =>
          new LocalNode(`node-${i + 1}`, port, () => {
            const proc = track(
              ManagedProcess.start({
                name: `node-${i + 1}`,
                command: nodeCommand,
                args: [...nodeProgram, ...referenceNodeArgs(topology, { port, host: '127.0.0.1', redisUrl, nodeId: `node-${i + 1}` })],
                env: { ...process.env, WSB_JWT_SECRET: topology.jwtSecret },
                logFile: join(logsDir, `node-${i + 1}.log`),
              }),
            );
            return proc;
          }, topology.readyTimeoutMs),
      );
      const listening = await Promise.all(nodes.map((n) => n.launch()));
      Object.assign(nodeVersions, listening[0]?.versions ?? {});
      if (user) log(`your server ready on ${nodePorts.join(',')} (${user.ready.kind})`);
      checkAbort();

      // --- NGINX -------------------------------------------------------------------------------
      const lbPort = topology.lbPort || (await getFreePort());
      const nginxDir = join(opts.runDir, 'nginx');
      for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(nginxDir, 'tmp', d), { recursive: true });
      // Workers run as nobody when the master is root; they must be able to use the temp folders.
      chmodSync(nginxDir, 0o755);
      for (const d of ['', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) chmodSync(join(nginxDir, 'tmp', d), 0o777);
      const conf = renderNginxConfig({
        prefix: nginxDir,
        listenPort: lbPort,
        upstreams: nodePorts.map((port) => ({ host: '127.0.0.1', port })),
        policy: topology.lbPolicy,
        expectedConnections: topology.expectedConnections,
        fileLimit: FILE_LIMIT,
        pingWindowMs: so.pingInterval + so.pingTimeout,
      });
      const confPath = join(nginxDir, 'nginx.conf');
      writeFileSync(confPath, conf);
      let nginx: ManagedProcess;
      const startNginx = async () => {
        nginx = track(
          ManagedProcess.start({
            name: 'nginx',
            command: nginxBin,
            args: ['-p', nginxDir, '-c', confPath, '-e', join(nginxDir, 'error.log')],
            logFile: join(logsDir, 'nginx.log'),
          }),
        );
        const lbReady = await Promise.race([
          waitForHttp(`http://127.0.0.1:${lbPort}/nginx-health`, topology.readyTimeoutMs, 100, opts.signal),
          nginx.exited.then(() => false),
        ]);
        if (!lbReady) {
          const tail = nginx.lastLines(10);
          if (/Address already in use/i.test(tail)) {
            throw new WsbenchError('WSB_PORT_IN_USE', `nginx could not listen on 127.0.0.1:${lbPort}: address already in use`, {
              hint: 'choose another --lb-port, or omit it to let wsbench pick a free port',
            });
          }
          throw new WsbenchError('WSB_LB_NOT_READY', `nginx not ready on 127.0.0.1:${lbPort} after ${topology.readyTimeoutMs} ms; output:\n${tail}`, {
            hint: `see ${join(nginxDir, 'error.log')}`,
          });
        }
      };
      await startNginx();
      // Through the balancer to a node: proves the upstream block works, not only nginx itself (a
      // user's server: through its own HTTP ready path, when it has one).
      const throughPath = user ? (user.ready.kind === 'http' ? user.ready.path : undefined) : '/health';
      if (throughPath !== undefined && !(await waitForHttp(`http://127.0.0.1:${lbPort}${throughPath}`, topology.readyTimeoutMs, 100, opts.signal, true))) {
        throw new WsbenchError('WSB_LB_NOT_READY', `nginx on ${lbPort} does not reach any node's ${throughPath} after ${topology.readyTimeoutMs} ms`, {
          hint: `see ${join(nginxDir, 'error.log')}`,
        });
      }
      checkAbort();

      const versions: Record<string, string> = {
        node: process.version,
        redis: versionOf(redisBin, ['--version'], /v=(\S+)/),
        nginx: versionOf(nginxBin, ['-v'], /nginx\/(\S+)/),
        ...Object.fromEntries(Object.entries(nodeVersions).filter(([k]) => k !== 'node')),
      };
      log(`cluster up: lb ${lbPort}, nodes ${nodePorts.join(',')}, redis ${redisPort}`);

      const cluster: StartedCluster = {
        runId: opts.runId,
        url: `http://127.0.0.1:${lbPort}`,
        nodes,
        redis: {
          url: redisUrl,
          port: redisPort,
          pid: () => redisProc.pid,
          stop: async () => {
            await redisProc.stop();
          },
          start: startRedis,
        },
        lb: {
          port: lbPort,
          pid: () => nginx.pid,
          policy: topology.lbPolicy,
          // SIGTERM is nginx's fast shutdown: every proxied connection drops at once.
          stop: async () => {
            await nginx.stop();
          },
          start: startNginx,
          // SIGHUP: new workers take new connections; old ones keep theirs until they close.
          reload: async () => {
            nginx.signal('SIGHUP');
          },
        },
        versions,
        pids: () => [...processes].map((p) => p.pid).filter((p): p is number => p !== undefined),
        metrics: () => Promise.all(nodes.map((n) => n.metrics())),
        processRss: async () => ({
          redis: redisProc.pid === undefined ? null : await rssOfTree(redisProc.pid),
          lb: nginx.pid === undefined ? null : await rssOfTree(nginx.pid),
        }),
        ...stack.closers(),
      };
      return cluster;
    }, (e) => log(`teardown after failed start: ${e.message}`));
  }
}

class LocalNode implements ClusterNode {
  readonly url: string;
  private proc: ManagedProcess | undefined;

  constructor(
    readonly id: string,
    readonly port: number,
    private readonly spawnProc: () => ManagedProcess,
    private readonly readyTimeoutMs: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  pid(): number | undefined {
    return this.proc?.pid;
  }

  running(): boolean {
    return this.proc?.running ?? false;
  }

  async start(): Promise<void> {
    await this.launch();
  }

  /** Spawns the node and resolves with its `listening` line. */
  async launch(): Promise<NodeListening> {
    const proc = this.spawnProc();
    this.proc = proc;
    try {
      return await proc.waitForLine(parseListening, this.readyTimeoutMs, 'WSB_NODE_NOT_READY', `see the ${this.id} log in the run folder's logs/`);
    } catch (e) {
      throw portInUseOr(e, proc, this.port);
    }
  }

  async kill(): Promise<void> {
    this.proc?.signal('SIGKILL');
    await this.proc?.exited;
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }

  async pause(): Promise<void> {
    this.proc?.signal('SIGSTOP');
  }

  async resume(): Promise<void> {
    this.proc?.signal('SIGCONT');
  }

  metrics(): Promise<NodeMetrics> {
    return scrapeNodeMetrics(this.id, this.url, this.running());
  }

}
