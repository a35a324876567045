/**
 * Test support: a cluster of a user's server (a fixture in test/integration/servers/) behind
 * wsbench's own NGINX config (cluster/nginx-config.ts, with its `X-Wsbench-Upstream` header) and a
 * real redis-server — the topology wsbench runs, started here until `server.command` (issue 14
 * part 1) starts user servers itself. Every process is stopped by `down()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderNginxConfig } from '../../../cluster/nginx-config.js';
import { waitForHttp } from '../../../cluster/wait.js';
import { freePort, startRedis, type RedisHandle } from './redis.js';

export const SERVERS_DIR = fileURLToPath(new URL('../servers/', import.meta.url));

export interface FixtureCluster {
  /** The load balancer's URL. */
  url: string;
  nodes: Array<{ id: string; url: string; port: number; proc: ChildProcess }>;
  pids(): number[];
  down(): Promise<void>;
}

function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

/** `script` (a file of servers/) × `nodes`, with `env` (plus PORT, REDIS_URL, NODE_ID). */
export async function startFixtureCluster(script: string, nodes: number, env: Record<string, string>): Promise<FixtureCluster> {
  const procs: ChildProcess[] = [];
  let redis: RedisHandle | undefined;
  const out: FixtureCluster['nodes'] = [];
  const down = async () => {
    await Promise.allSettled(procs.map(stop));
    await redis?.stop();
  };
  try {
    redis = await startRedis();
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      const id = `node-${i + 1}`;
      const proc = spawn(process.execPath, [join(SERVERS_DIR, script)], {
        cwd: SERVERS_DIR,
        env: { ...process.env, ...env, PORT: String(port), REDIS_URL: redis.url, NODE_ID: id },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      procs.push(proc);
      out.push({ id, url: `http://127.0.0.1:${port}`, port, proc });
    }
    for (const n of out) if (!(await waitForHttp(`${n.url}/health`, 20_000, 100))) throw new Error(`${script} node ${n.id} not ready`);
    const lbPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'wsb-fixture-nginx-'));
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'tmp', d), { recursive: true });
    chmodSync(dir, 0o755);
    for (const d of ['', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) chmodSync(join(dir, 'tmp', d), 0o777);
    const conf = renderNginxConfig({
      prefix: dir,
      listenPort: lbPort,
      upstreams: out.map((n) => ({ host: '127.0.0.1', port: n.port })),
      policy: 'round_robin',
      expectedConnections: 200,
      fileLimit: 20_000,
      pingWindowMs: 45_000,
    });
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
    procs.push(nginx);
    const url = `http://127.0.0.1:${lbPort}`;
    if (!(await waitForHttp(`${url}/nginx-health`, 20_000, 100))) throw new Error('nginx not ready');
    return { url, nodes: out, pids: () => procs.map((p) => p.pid!).filter((p) => p !== undefined), down };
  } catch (e) {
    await down();
    throw e;
  }
}
