/**
 * The user's own server as the nodes (issue 14 part 1), local driver: real redis-server, nginx and
 * the user's processes, real signals. A tiny HTTP server stands for the user's server where only
 * the cluster's handling of it is tested (readiness, stop, group kill, pause); the reference server
 * run as if it were a user's (its own command line) where a scenario needs a protocol.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../cli/plan.js';
import { applyChaos } from '../../cluster/chaos.js';
import { LocalDriver } from '../../cluster/local-driver.js';
import { descendants, processIdentity, processesWithEnv } from '../../cluster/process-identity.js';
import { RUN_ID_ENV } from '../../cluster/user-node.js';
import type { StartedCluster } from '../../cluster/types.js';
import { httpGet } from '../../cluster/wait.js';
import { distEntry } from '../../common/paths.js';
import type { RunReport } from '../../model/run-report.js';
import type { PidsRecord } from '../../cluster/clean.js';
import { wsbench } from './support/cli.js';

/** The stand-in for a user's server: /health 503 until ready, /state tells what it was given. */
const TINY = `
import http from 'node:http';
const [mode, delayText] = process.argv.slice(2);
const delay = Number(delayText ?? 600);
let ready = false;
const srv = http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(ready ? 200 : 503); res.end(); return; }
  if (req.url === '/state') { res.end(JSON.stringify({ ready, argv: process.argv.slice(2), nodeId: process.env.NODE_ID, port: process.env.PORT, redis: process.env.REDIS_URL, extra: process.env.EXTRA, cwd: process.cwd(), pid: process.pid })); return; }
  res.writeHead(404); res.end();
});
for (const s of ['SIGTERM', 'SIGINT', 'SIGUSR2']) process.on(s, () => { console.log('got ' + s); if (process.env.IGNORE_STOP) return; srv.close(); process.exit(0); });
console.log('starting ' + mode);
const listen = () => srv.listen(Number(process.env.PORT), '127.0.0.1');
if (mode === 'tcp') setTimeout(() => { ready = true; listen(); }, delay);
else { listen(); if (mode !== 'never') setTimeout(() => { ready = true; if (mode === 'log') console.log('server is up on ' + process.env.PORT); }, delay); }
`;

const appDir = mkdtempSync(join(tmpdir(), 'wsb-userapp-'));
writeFileSync(join(appDir, 'tiny.mjs'), TINY);
const REFERENCE = `${process.execPath} ${distEntry('reference-server/main.js')} --server socketio --host 127.0.0.1 --port {port} --redis {redisUrl} --node-id {nodeId} --rate-limit 100000`;
const SMALL = { connections: '150', rooms: '5', rate: '5', warmup: '1', drain: '2' };

const clusters: StartedCluster[] = [];
afterAll(async () => {
  for (const c of clusters) await c.down();
});

function configFile(server: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const f = join(appDir, `wsbench-${Math.random().toString(16).slice(2)}.config.json`);
  // These nodes (tiny.mjs, the reference server run as a user's) are spoken to in the reference protocol: named, as a user's server must name its profile.
  writeFileSync(f, JSON.stringify({ server, protocol: 'socketio', ...extra }));
  return f;
}

async function startCluster(server: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ cluster: StartedCluster; runDir: string; pids: number[] }> {
  const plan = buildPlan('cross-node-broadcast', { config: configFile(server, { nodes: 2, ...extra }), repeat: '1' }, {});
  const runDir = mkdtempSync(join(tmpdir(), 'wsb-userserver-run-'));
  const pids: number[] = [];
  const cluster = await new LocalDriver().start(plan.topology, { runId: plan.runId, runDir, onProcess: (p) => pids.push(p) });
  clusters.push(cluster);
  return { cluster, runDir, pids };
}

const state = async (url: string) => JSON.parse((await httpGet(`${url}/state`)).body) as { ready: boolean; argv: string[]; nodeId: string; port: string; redis: string; extra?: string; cwd: string; pid: number };
const procState = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[0];
/** Polls `check` (every 20 ms, 5 s at most): true once it holds. */
async function until(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
const allGone = (pids: number[]) => pids.filter((p) => processIdentity(p) !== undefined);

describe('server.command on the local driver: readiness', () => {
  for (const [kind, ready] of [
    ['tcp', undefined],
    ['http', { http: '/health' }],
    ['log', { log: 'server is up on \\d+' }],
  ] as const) {
    it(`ready by ${kind}: start() returns only once every node is ready; placeholders, env and cwd reach it; down() leaves nothing`, async () => {
      const { cluster, pids } = await startCluster({ command: `node tiny.mjs ${kind} 700 {nodeId} {port}`, env: { EXTRA: 'x1' }, ...(ready ? { ready } : {}) });
      expect(cluster.nodes.map((n) => n.id)).toEqual(['node-1', 'node-2']);
      for (const n of cluster.nodes) {
        const s = await state(n.url);
        expect(s.ready).toBe(true);
        expect(s.argv).toEqual([kind, '700', n.id, String(n.port)]);
        expect(s).toMatchObject({ nodeId: n.id, port: String(n.port), redis: cluster.redis.url, extra: 'x1', cwd: appDir });
      }
      // Through the balancer to the user's nodes.
      expect((await state(cluster.url)).ready).toBe(true);
      const descendantsOf = pids.flatMap((p) => descendants(p).map((d) => d.pid));
      expect(await cluster.down()).toEqual([]);
      expect(allGone([...pids, ...descendantsOf])).toEqual([]);
    });
  }
});

describe('server.command on the local driver: stop, kill, start, pause as chaos does them', () => {
  it('a command whose shell spawns the server: kill takes the whole group, start brings it back on the same port, pause stops it', async () => {
    const { cluster } = await startCluster({ command: 'node tiny.mjs http 0; echo shell-after', ready: { http: '/health' } });
    const node = cluster.nodes[0];
    const shell = node.pid()!;
    const server = (await state(node.url)).pid;
    // The server is the shell's child: a signal to the shell alone would leave it.
    expect(descendants(shell).map((d) => d.pid)).toContain(server);
    expect(processIdentity(shell)!.cmdline).toMatch(/^\/bin\/sh -c /);
    await node.kill();
    expect(node.running()).toBe(false);
    expect(processIdentity(server)).toBeUndefined();
    expect(processIdentity(shell)).toBeUndefined();
    await node.start();
    const again = await state(node.url);
    expect(again.ready).toBe(true);
    expect(again.pid).not.toBe(server);
    expect(node.url).toBe(`http://127.0.0.1:${node.port}`);
    await node.pause();
    // The kernel stops each member as the signal is delivered: seen within a few polls.
    expect(await until(() => procState(again.pid) === 'T' && procState(node.pid()!) === 'T')).toBe(true);
    await node.resume();
    expect(await until(() => procState(again.pid) !== 'T')).toBe(true);
    expect((await state(node.url)).ready).toBe(true);
  });

  it('stop sends the configured signal to the group; a server that ignores it is SIGKILLed after stop.timeoutMs', async () => {
    const { cluster, runDir } = await startCluster({ command: 'node tiny.mjs http 0', ready: { http: '/health' }, stop: { signal: 'SIGUSR2' } });
    const [a, b] = cluster.nodes;
    const pa = (await state(a.url)).pid;
    await a.stop();
    expect(processIdentity(pa)).toBeUndefined();
    expect(readFileSync(join(runDir, 'logs', 'node-1.log'), 'utf8')).toContain('got SIGUSR2');
    expect(b.running()).toBe(true);

    const stubborn = await startCluster({ command: 'node tiny.mjs http 0', ready: { http: '/health' }, env: { IGNORE_STOP: '1' }, stop: { timeoutMs: 500 } }, { nodes: 1 });
    const n = stubborn.cluster.nodes[0];
    const pn = (await state(n.url)).pid;
    await n.stop();
    expect(processIdentity(pn)).toBeUndefined();
    expect(readFileSync(join(stubborn.runDir, 'logs', 'node-1.log'), 'utf8')).toContain('got SIGTERM');
  });
});

describe('chaos on a user server with no HTTP health path', () => {
  it('observes stop, start, pause and resume by its port and its process state, not by a /health it does not have', async () => {
    // Accepts TCP and never answers HTTP (as a Socket.IO server with no request handler does on /health).
    writeFileSync(join(appDir, 'silent.mjs'), "import net from 'node:net'; net.createServer(() => {}).listen(Number(process.env.PORT), '127.0.0.1');\n");
    const { cluster } = await startCluster({ command: 'node silent.mjs', ready: { tcp: true } }, { nodes: 1 });
    const node = cluster.nodes[0];
    expect(node.healthPath).toBeNull();
    const now = () => Number(process.hrtime.bigint() / 1000n);
    const steps: Array<[string, string, string | undefined]> = [];
    for (const type of ['pause-node', 'resume-node', 'stop-node', 'start-node'] as const) {
      const rec = await applyChaos(cluster, { type, node: node.id }, now);
      steps.push([type, rec.outcome, rec.detail]);
    }
    expect(steps.map(([t, o]) => [t, o]), JSON.stringify(steps)).toEqual([
      ['pause-node', 'ok'],
      ['resume-node', 'ok'],
      ['stop-node', 'ok'],
      ['start-node', 'ok'],
    ]);
    expect(steps[0][2]).toMatch(/state T/);
    expect(steps[3][2]).toMatch(/accepts connections/);
  });
});

describe('server.metrics', () => {
  it('per-node metrics are unknown (null) without server.metrics, scraped as the reference /metrics with it', async () => {
    const without = await startCluster({ command: REFERENCE }, { nodes: 1 });
    const [m0] = await without.cluster.metrics();
    expect(m0).toEqual({ nodeId: 'node-1', up: true, connections: null, rssBytes: null, heapUsedBytes: null, eventLoopLagMs: null, publishTotal: null });
    const withMetrics = await startCluster({ command: REFERENCE, metrics: '/metrics' }, { nodes: 1 });
    const [m1] = await withMetrics.cluster.metrics();
    expect(m1.up).toBe(true);
    expect(m1.connections).toBe(0);
    expect(m1.rssBytes).toBeGreaterThan(0);
  });
});

describe('server.command through the real bin', () => {
  it('a server that never becomes ready: WSB_SERVER_NOT_READY with its last output, exit 2, nothing left running', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-userserver-notready-'));
    const r = await wsbench(['run', 'cross-node-broadcast', '--config', configFile({ command: 'node tiny.mjs never', ready: { http: '/health' } }), '--ready-timeout', '2000', '--repeat', '1', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WSB_SERVER_NOT_READY/);
    expect(r.stderr).toMatch(/node-\d \(your server\) was not ready after 2000 ms; waited for GET http:\/\/127\.0\.0\.1:\d+\/health answering 2xx/);
    expect(r.stderr).toContain('starting never');
    const rec = JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')) as PidsRecord;
    expect(rec.pids.length).toBeGreaterThanOrEqual(2);
    expect(allGone(rec.pids)).toEqual([]);
    expect(processesWithEnv(RUN_ID_ENV, rec.runId)).toEqual([]);
  });

  it('node-kill against the user command (the reference server run as a user\'s): loss classified as for the reference server', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-userserver-nodekill-'));
    const r = await wsbench(['run', 'node-kill', '--protocol', 'socketio', '--server-command', REFERENCE, ...Object.entries({ ...SMALL, duration: '8', killAt: '2', node: 'node-2' }).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]), '--out', out]);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    expect(rep.error, r.stderr).toBeUndefined();
    expect(rep.topology).toMatchObject({ server: 'custom', serverCommand: REFERENCE });
    expect(rep.topology.adapter).toBeUndefined();
    expect(rep.events.find((e) => e.type === 'kill-node')).toMatchObject({ target: 'node-2', outcome: 'ok' });
    const rc = rep.reconnection!;
    expect(rc.disconnections).toBe(rep.connectionsPerNode['node-2']);
    expect(rc.neverBack).toBe(0);
    expect(rc.reconnected).toBe(rc.disconnections);
    const l = rep.accounting.losses!;
    expect(l.lostConnected).toBe(0);
    expect(l.lostDisconnected + l.lostPublisherDown + l.neverSent!).toBe(rep.accounting.lost);
    expect(rep.accounting.duplicated).toBe(0);
    expect(rep.windows!.after.accounting.lost).toBe(0);
    expect(rep.targets.find((t) => t.id === 'chaos-applied')!.status).toBe('pass');
    // No server.metrics: what the nodes hold is unknown, never guessed.
    expect(rep.nodeMetrics!.length).toBeGreaterThan(0);
    for (const p of rep.nodeMetrics!) for (const n of p.nodes) expect(n.connections).toBeNull();
    expect([0, 1]).toContain(r.code);
    const rec = JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')) as PidsRecord;
    expect(allGone(rec.pids)).toEqual([]);
  });

  it('rolling-restart against the user command: every node stopped with its signal and back, every client back, nothing lost while connected', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-userserver-rolling-'));
    const r = await wsbench(['run', 'rolling-restart', '--protocol', 'socketio', '--server-command', REFERENCE, '--nodes', '2', '--connections', '150', '--rooms', '5', '--rate', '5', '--warmup', '1', '--drain', '2', '--duration', '10', '--first-at', '1', '--settle', '0', '--out', out]);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    expect(rep.error, r.stderr).toBeUndefined();
    expect(rep.topology.server).toBe('custom');
    expect(rep.events.filter((e) => e.type === 'stop-node').map((e) => [e.target, e.outcome])).toEqual([
      ['node-1', 'ok'],
      ['node-2', 'ok'],
    ]);
    expect(rep.events.filter((e) => e.type === 'start-node').map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(rep.reconnection!.neverBack).toBe(0);
    expect(rep.reconnection!.reconnected).toBe(rep.reconnection!.disconnections);
    expect(rep.accounting.losses!.lostConnected).toBe(0);
    // The reference server says why it closes (SIGTERM is its graceful stop): it was the configured signal that reached it.
    for (const n of ['node-1', 'node-2']) expect(readFileSync(join(out, 'logs', `${n}.log`), 'utf8')).toMatch(/SIGTERM: shutting down/);
  });

  it('--pause-node against the user command run under a shell: SIGSTOP/SIGCONT reach the server in the group, the paused node stands out', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-userserver-pause-'));
    // `; exit $?` keeps the shell as the server's parent: a stop of the shell alone would leave the server serving.
    const r = await wsbench(['run', 'cross-node-broadcast', '--protocol', 'socketio', '--server-command', `${REFERENCE}; exit $?`, '--connections', '150', '--rooms', '2', '--rate', '5', '--warmup', '1', '--duration', '5', '--drain', '2', '--repeat', '1', '--pause-node', 'node-3', '--pause-at', '2', '--pause-ms', '2000', '--out', out]);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    expect(rep.error, r.stderr).toBeUndefined();
    expect(rep.events.filter((e) => e.type === 'pause-node' || e.type === 'resume-node').map((e) => [e.type, e.target, e.outcome])).toEqual([
      ['pause-node', 'node-3', 'ok'],
      ['resume-node', 'node-3', 'ok'],
    ]);
    // Two rooms publish from node-1 and node-2: only node-3's receivers wait out the pause.
    const rows = rep.windows!.pause.perNode!.receiving.filter((x) => x.latency_ms.count > 0);
    expect(rows.reduce((a, b) => (b.latency_ms.p99 > a.latency_ms.p99 ? b : a)).node).toBe('node-3');
    expect(rep.accounting.lost).toBe(0);
  });

  it('wsbench clean after a kill -9 of the CLI finds the user\'s node processes, also one that left the recorded process tree', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-userserver-clean-'));
    // The subshell forks the server and exits: the server is no descendant of the recorded shell.
    const command = `(${REFERENCE} &) ; exec sleep 600`;
    let runId = '';
    const r = await wsbench(['run', 'cross-node-broadcast', '--protocol', 'socketio', '--server-command', command, '--nodes', '2', '--connections', '20', '--rooms', '2', '--duration', '60', '--repeat', '1', '--out', out], {
      onStderr: (text, child) => {
        if (/cluster up:/.test(text) && !runId) {
          runId = (JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')) as PidsRecord).runId;
          child.kill('SIGKILL');
        }
      },
    });
    expect(r.signal).toBe('SIGKILL');
    const left = processesWithEnv(RUN_ID_ENV, runId);
    const servers = left.filter((p) => p.cmdline.includes('reference-server/main.js'));
    expect(servers.length).toBe(2);
    const rec = JSON.parse(readFileSync(join(out, 'pids.json'), 'utf8')) as PidsRecord;
    // Not reachable from the recorded pids: only the environment marker finds them.
    const reachable = rec.pids.flatMap((p) => [p, ...descendants(p).map((d) => d.pid)]);
    for (const s of servers) expect(reachable).not.toContain(s.pid);
    const c = await wsbench(['clean', out]);
    expect(c.code).toBe(0);
    for (const s of servers) expect(c.stdout).toContain(`killed  ${runId}: pid ${s.pid}`);
    expect(processesWithEnv(RUN_ID_ENV, runId)).toEqual([]);
    expect(allGone(rec.pids)).toEqual([]);
  });
});
