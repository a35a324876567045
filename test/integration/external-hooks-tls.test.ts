/**
 * `--url` against a cluster the test starts itself (redis-server, two reference nodes, nginx, on
 * loopback), through the real bin:
 * - wss:// through a second NGINX with an `ssl` listener on 127.0.0.1, its certificate signed by
 *   a CA made here with openssl: `--ca` delivers everything; `--insecure` works and says so; a
 *   wrong CA fails with WSB_TLS_FAILED (exit 2);
 * - chaos through the user's hooks: `node-kill` with `chaos.hooks.killNode` = `kill -9` of the
 *   node's pid (from a pid file the test writes): the hook ran, its output is in the chaos event,
 *   the node is gone and its clients were disconnected; a hook that exits 0 but kills nothing is a
 *   failed chaos action (chaos-applied fails, exit 1); `redis-outage` with stopRedis/startRedis
 *   hooks that shut Redis down and start a new redis-server on its port: both observed on the
 *   nodes' /health; the same without `--node-urls` (hooks that change nothing): both `unknown`,
 *   chaos-applied unknown, exit 1, `CHAOS NOT OBSERVED` naming `--node-urls`; `rolling-restart` with stopNode/startNode hooks (a script that SIGTERMs a node
 *   and starts it again from its own command line): every node stopped and back, observed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDriver } from '../../cluster/local-driver.js';
import { getFreePort } from '../../cluster/ports.js';
import { waitForHttp } from '../../cluster/wait.js';
import { tcpConnect } from '../../cluster/observe.js';
import { findBinary } from '../../common/binaries.js';
import { SERVER_DEFAULTS, type StartedCluster } from '../../cluster/types.js';
import type { RunReport } from '../../model/run-report.js';
import { validateReport } from '../../model/schema.js';
import { wsbench } from './support/cli.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

const SECRET = 'external-hooks-tls-secret';
let cluster: StartedCluster;
let dir: string;
let tlsNginx: ChildProcess | undefined;
let tlsPort: number;

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, and a certificate for IP 127.0.0.1 it signs; a second CA that signs nothing here. */
function makeCertificates(): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wsbench test CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=another CA']);
}

/** NGINX terminating TLS on 127.0.0.1:tlsPort, proxying (ip_hash over the generator's source addresses) to the nodes. */
async function startTlsNginx(): Promise<void> {
  const prefix = join(dir, 'nginx');
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  tlsPort = await getFreePort();
  const servers = cluster.nodes.map((n) => `        server 127.0.0.1:${n.port};`).join('\n');
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    upstream nodes {
        ip_hash;
${servers}
    }
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:${tlsPort} ssl;
        ssl_certificate ${dir}/server.pem;
        ssl_certificate_key ${dir}/server.key;
        location / {
            proxy_pass http://nodes;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 120s;
            proxy_buffering off;
        }
    }
}
`,
  );
  const nginx = findBinary('nginx');
  if (!nginx) throw new Error('nginx not found');
  tlsNginx = spawn(nginx, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while ((await tcpConnect('127.0.0.1', tlsPort, 500)) !== 'accepted') {
    if (Date.now() > deadline) throw new Error(`TLS nginx did not listen: ${readFileSync(join(prefix, 'error.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsb-external-hooks-'));
  cluster = await new LocalDriver().start(
    {
      server: 'socketio',
      nodes: 2,
      lb: 'nginx',
      lbPolicy: 'ip_hash',
      lbPort: 0,
      expectedConnections: 200,
      serverOptions: { ...SERVER_DEFAULTS },
      jwtSecret: SECRET,
      readyTimeoutMs: 30_000,
    },
    { runId: 'external-hooks-test', runDir: dir },
  );
  // What the user's hook reads: each node's pid, by node id.
  for (const n of cluster.nodes) writeFileSync(join(dir, `${n.id}.pid`), `${n.pid()}\n`);
  makeCertificates();
  await startTlsNginx();
}, 90_000);

afterAll(async () => {
  // What the hooks started (the redis-server, restarted nodes): not the driver's to stop.
  const started = [join(dir, 'redis-again.pid'), ...cluster.nodes.map((n) => join(dir, `${n.id}.pid`))];
  const killed: number[] = [];
  for (const file of started) {
    try {
      const pid = Number(readFileSync(file, 'utf8'));
      if (!cluster.nodes.some((n) => n.pid() === pid)) {
        process.kill(pid, 'SIGTERM');
        killed.push(pid);
      }
    } catch {
      // not started, or already gone
    }
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const deadline = Date.now() + 15_000; killed.some(alive) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
  if (tlsNginx && tlsNginx.exitCode === null) {
    tlsNginx.kill('SIGTERM');
    await new Promise((r) => tlsNginx!.once('exit', r));
  }
  await cluster?.down();
});

const NODE_URLS = () => cluster.nodes.map((n) => n.url).join(',');
const BROADCAST = ['--connections', '40', '--rooms', '4', '--rate', '1', '--duration', '2', '--warmup', '1', '--drain', '1'];

async function run(args: string[], opts: { report?: boolean } = {}): Promise<{ code: number | null; stdout: string; stderr: string; report?: RunReport }> {
  const out = mkdtempSync(join(tmpdir(), 'wsb-external-hooks-out-'));
  const tag = newTag();
  const r = await wsbench([...args, '--out', out], { env: { ...process.env, WSB_TEST_TAG: tag, WSB_JWT_SECRET: SECRET } });
  expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  if (opts.report === false) return r;
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  expect(validateReport(report)).toEqual([]);
  return { ...r, report };
}

describe('--url wss:// through an NGINX TLS listener on loopback', () => {
  it('with --ca (the CA made here): every delivery arrives, nothing lost, through TLS', async () => {
    const url = `wss://127.0.0.1:${tlsPort}`;
    const { code, stderr, report } = await run(['run', 'cross-node-broadcast', ...BROADCAST, '--url', url, '--node-urls', NODE_URLS(), '--ca', join(dir, 'ca.pem')]);
    expect(stderr).not.toContain('error WSB_');
    expect(report!.config.tls).toEqual({ ca: join(dir, 'ca.pem') });
    expect(report!.topology.driver).toBe('external');
    expect(report!.counters.connections_peak).toBe(40);
    expect(report!.accounting.expected).toBeGreaterThan(0);
    expect(report!.accounting.received).toBe(report!.accounting.expected);
    expect(report!.accounting.lost).toBe(0);
    expect(Object.keys(report!.connectionsPerNode).sort()).toEqual(['node-1', 'node-2']);
    expect(code).toBe(report!.verdict === 'pass' ? 0 : 1);
  });

  it('with --insecure and no CA: it works, and the report and console say the certificate was not verified', async () => {
    const url = `wss://127.0.0.1:${tlsPort}`;
    const { stdout, report } = await run(['run', 'cross-node-broadcast', ...BROADCAST, '--url', url, '--insecure']);
    expect(report!.accounting.lost).toBe(0);
    expect(report!.accounting.received).toBe(report!.accounting.expected);
    expect(report!.generator.notes).toContain(`INSECURE TLS (--insecure / tls.insecure): the certificate of ${url} was NOT verified`);
    expect(stdout).toContain('INSECURE TLS');
  });

  it('with a CA that did not sign the certificate: WSB_TLS_FAILED naming --ca, exit 2', async () => {
    const r = await run(['run', 'cross-node-broadcast', ...BROADCAST, '--url', `wss://127.0.0.1:${tlsPort}`, '--ca', join(dir, 'other-ca.pem')], { report: false });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WSB_TLS_FAILED');
    expect(r.stderr).toMatch(/did not pass the TLS check \(GET \/health: .*(SELF_SIGNED|UNABLE_TO_VERIFY|self.signed|unable to verify)/i);
    expect(r.stderr).toMatch(/hint: .*--ca <file>/);
  });
});

describe('--url with chaos.hooks: node-kill on a cluster wsbench did not start', () => {
  const NODE_KILL = ['--connections', '40', '--rooms', '4', '--rate', '1', '--duration', '5', '--kill-at', '2', '--warmup', '1', '--drain', '1', '--node', 'node-2'];
  const config = (killNode: string) => {
    const file = join(dir, `hooks-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ scenario: 'node-kill', chaos: { hooks: { killNode } } }));
    return file;
  };

  it('redis-outage through stopRedis/startRedis hooks: both actions observed on the nodes\' /health, nothing failed', async () => {
    const port = cluster.redis.port;
    const redisServer = findBinary('redis-server')!;
    const file = join(dir, 'redis-hooks.json');
    writeFileSync(
      file,
      JSON.stringify({
        scenario: 'redis-outage',
        chaos: {
          hooks: {
            stopRedis: `kill -TERM $(cat ${dir}/redis.pid) && while kill -0 $(cat ${dir}/redis.pid) 2>/dev/null; do sleep 0.1; done; echo redis stopped`,
            startRedis: `env -u WSB_TEST_TAG ${redisServer} --port ${port} --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --pidfile ${dir}/redis-again.pid --dir ${dir} && echo redis started`,
          },
        },
      }),
    );
    writeFileSync(join(dir, 'redis.pid'), `${cluster.redis.pid()}\n`);
    const { report } = await run(['run', 'redis-outage', '--config', file, '--connections', '40', '--rooms', '4', '--rate', '1', '--duration', '7', '--outage-at', '1', '--outage', '2', '--settle', '2', '--warmup', '1', '--drain', '1', '--url', cluster.url, '--node-urls', NODE_URLS()]);
    const stop = report!.events.find((e) => e.type === 'stop-redis')!;
    const start = report!.events.find((e) => e.type === 'start-redis')!;
    expect(stop).toMatchObject({ outcome: 'ok', target: 'redis' });
    expect(stop.detail).toContain('exit 0: redis stopped');
    expect(stop.detail).toContain("observed: a node's /health reports Redis not ready");
    expect(start).toMatchObject({ outcome: 'ok' });
    expect(start.detail).toContain('exit 0: redis started');
    expect(start.detail).toContain("observed: every node's /health reports Redis ready");
    expect(report!.counters).toMatchObject({ chaos_actions_failed: 0, chaos_actions_unobserved: 0 });
    expect(report!.targets.find((t) => t.id === 'chaos-applied')!.status).toBe('pass');
  });

  it('redis-outage through hooks without --node-urls: nothing can observe Redis, so chaos-applied is unknown and the run fails (exit 1), saying CHAOS NOT OBSERVED with the flag that would', async () => {
    // Hooks that change nothing: without node URLs wsbench cannot tell them from real ones — which is why this must not pass.
    const file = join(dir, 'redis-blind-hooks.json');
    writeFileSync(file, JSON.stringify({ scenario: 'redis-outage', chaos: { hooks: { stopRedis: 'echo pretending to stop redis', startRedis: 'echo pretending to start redis' } } }));
    const { code, stdout, stderr, report } = await run(['run', 'redis-outage', '--config', file, '--connections', '20', '--rooms', '2', '--rate', '1', '--duration', '4', '--outage-at', '1', '--outage', '1', '--settle', '1', '--warmup', '1', '--drain', '1', '--url', cluster.url]);
    expect(report!.events.filter((e) => e.type === 'stop-redis' || e.type === 'start-redis').map((e) => `${e.type} ${e.outcome}`)).toEqual(['stop-redis unknown', 'start-redis unknown']);
    expect(report!.counters).toMatchObject({ chaos_actions_failed: 0, chaos_actions_unobserved: 2 });
    expect(report!.targets.find((t) => t.id === 'chaos-applied')).toMatchObject({ status: 'unknown', actual: null });
    expect(report!.verdict).toBe('fail');
    expect(code).toBe(1);
    const said = (stdout + stderr).split('\n').filter((l) => l.includes('CHAOS NOT OBSERVED'));
    expect(said).toHaveLength(2);
    expect(said[0]).toContain('CHAOS NOT OBSERVED: stop-redis redis: hook stopRedis "echo pretending to stop redis" exit 0: pretending to stop redis;');
    for (const l of said) expect(l).toContain('--node-urls');
  });

  it('rolling-restart through stopNode/startNode hooks: every node stopped and started again, each observed', async () => {
    const script = join(dir, 'node-ctl.sh');
    writeFileSync(
      script,
      `#!/bin/sh
set -e
d='${dir}'
case "$1" in
  stop)
    pid=$(cat "$d/$2.pid")
    tr '\\0' '\\n' < /proc/$pid/cmdline > "$d/$2.cmd"
    readlink /proc/$pid/cwd > "$d/$2.cwd"
    kill -TERM $pid
    while kill -0 $pid 2>/dev/null; do sleep 0.1; done
    echo "stopped $2 (pid $pid)";;
  start)
    cd "$(cat "$d/$2.cwd")"
    env -u WSB_TEST_TAG WSB_JWT_SECRET='${SECRET}' nohup xargs -d '\\n' -a "$d/$2.cmd" sh -c 'echo $$ > "$0"; exec "$@"' "$d/$2.pid" >> "$d/$2.restart.log" 2>&1 &
    echo "started $2";;
esac
`,
      { mode: 0o755 },
    );
    const file = join(dir, 'restart-hooks.json');
    writeFileSync(file, JSON.stringify({ scenario: 'rolling-restart', chaos: { hooks: { stopNode: `${script} stop {node}`, startNode: `${script} start {node}` } } }));
    const before = cluster.nodes.map((n) => Number(readFileSync(join(dir, `${n.id}.pid`), 'utf8')));
    // Both restarts are done ~9 s into the measured phase (each ~2.5 s until every client is back,
    // then 1 s of settle); publishing does not end before the chaos schedule does in any case.
    const { report } = await run(['run', 'rolling-restart', '--config', file, '--connections', '40', '--rooms', '4', '--rate', '1', '--duration', '10', '--first-at', '1', '--settle', '1', '--warmup', '1', '--drain', '1', '--url', cluster.url, '--node-urls', NODE_URLS()]);
    const actions = report!.events.filter((e) => e.type === 'stop-node' || e.type === 'start-node').map((e) => `${e.type} ${e.target} ${e.outcome}`);
    expect(actions).toEqual(['stop-node node-1 ok', 'start-node node-1 ok', 'stop-node node-2 ok', 'start-node node-2 ok']);
    const stop1 = report!.events.find((e) => e.type === 'stop-node')!;
    expect(stop1.detail).toContain(`hook stopNode "${script} stop node-1" exit 0: stopped node-1 (pid ${before[0]})`);
    expect(report!.events.find((e) => e.type === 'start-node')!.detail).toContain('observed: /health answers');
    expect(report!.counters.chaos_actions_failed).toBe(0);
    expect(report!.reconnection!.disconnections).toBeGreaterThan(0);
    // The nodes run again under new pids, started by the hook.
    const after = cluster.nodes.map((n) => Number(readFileSync(join(dir, `${n.id}.pid`), 'utf8')));
    for (const [i, pid] of after.entries()) {
      expect(pid).not.toBe(before[i]);
      expect(() => process.kill(pid, 0)).not.toThrow();
    }
  });

  it('a hook that exits 0 but kills nothing is a failed chaos action: chaos-applied fails, exit 1; its credential is redacted in the report', async () => {
    // Nobody is disconnected, so nobody has to come back: the kill 1 s in, 2 s measured.
    const args = ['--connections', '40', '--rooms', '4', '--rate', '1', '--duration', '2', '--kill-at', '1', '--warmup', '1', '--drain', '1', '--node', 'node-2'];
    const { code, report } = await run(['run', 'node-kill', '--config', config('DEPLOY_TOKEN=s3cr3t-hook echo pretending to kill {node}'), ...args, '--url', cluster.url, '--node-urls', NODE_URLS()]);
    const kill = report!.events.find((e) => e.type === 'kill-node')!;
    expect(kill.outcome).toBe('fail');
    expect(kill.detail).toContain('hook killNode "DEPLOY_TOKEN=<redacted> echo pretending to kill node-2" exit 0: pretending to kill node-2');
    expect(report!.config.chaos).toEqual({ hooks: { killNode: 'DEPLOY_TOKEN=<redacted> echo pretending to kill {node}' } });
    expect(JSON.stringify(report)).not.toContain('s3cr3t-hook');
    expect(kill.detail).toContain('still accepts connections');
    expect(report!.targets.find((t) => t.id === 'chaos-applied')!.status).toBe('fail');
    expect(code).toBe(1);
    expect(() => process.kill(Number(readFileSync(join(dir, 'node-2.pid'), 'utf8')), 0)).not.toThrow();
  });

  it('the killNode hook kills node-2: its output is in the chaos event, the effect observed, its clients disconnected', async () => {
    const pid = Number(readFileSync(join(dir, 'node-2.pid'), 'utf8'));
    const { report } = await run(['run', 'node-kill', '--config', config(`kill -9 $(cat ${dir}/{node}.pid) && echo killed {node} {index}`), ...NODE_KILL, '--url', cluster.url, '--node-urls', NODE_URLS()]);
    const kill = report!.events.find((e) => e.type === 'kill-node')!;
    expect(kill.outcome).toBe('ok');
    expect(kill.target).toBe('node-2');
    expect(kill.detail).toContain(`hook killNode "kill -9 $(cat ${dir}/node-2.pid) && echo killed node-2 2" exit 0: killed node-2 2`);
    expect(kill.detail).toContain('observed:');
    expect(report!.counters.chaos_actions_failed).toBe(0);
    expect(report!.targets.find((t) => t.id === 'chaos-applied')!.status).toBe('pass');
    expect(report!.reconnection!.disconnections).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow();
    // The load balancer wsbench did not start still answers (through node-1).
    expect(await waitForHttp(`${cluster.url}/health`, 5000)).toBe(true);
  });
});
