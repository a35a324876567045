/**
 * The docker driver against a real Docker engine (started by .ci/run: dockerd --bridge=none, images
 * built by scripts/build-local-images.sh). Every container uses host networking: all traffic stays
 * on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { io as connectClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExactDelivery, expectSpreadOverThreeNodes } from './support/assert-run.js';
import { buildPlan } from '../../cli/plan.js';
import { run, type RunOutcome } from '../../runner/run.js';
import { eventsInto } from './support/run-events.js';
import { DockerDriver, type StartedDockerCluster } from '../../cluster/docker-driver.js';
import { connectEngine, LABELS, listLabelled, runLabels, type EngineInfo } from '../../cluster/docker-engine.js';
import { pingRedis } from '../../cluster/container-wait.js';
import { httpGet } from '../../cluster/wait.js';
import { applyChaos } from '../../cluster/chaos.js';
import { SERVER_DEFAULTS, type Topology } from '../../cluster/types.js';
import { processIdentity } from '../../cluster/process-identity.js';
import { DOCKER_IMAGE_DEFAULTS } from '../../cluster/docker-options.js';
import { mintToken } from '../../load/token.js';

const BIN = fileURLToPath(new URL('../../bin/wsbench.js', import.meta.url));

let engine: EngineInfo;

beforeAll(async () => {
  // WSB_DOCKER_UNAVAILABLE here means no engine: .ci/run starts dockerd (see the README's docker section).
  engine = await connectEngine();
});

async function stateOf(id: string): Promise<{ Running: boolean; Paused: boolean; Status: string }> {
  return (await engine.client.container.dockerode.getContainer(id).inspect()).State as { Running: boolean; Paused: boolean; Status: string };
}

async function labelled(runId: string) {
  return listLabelled(engine.client, `${LABELS.run}=${runId}`);
}

function wsbench(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr?.(stderr, child);
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cross-node-broadcast on the docker driver (3 node containers, host networking)', () => {
  let outcome: RunOutcome;
  let runId = '';
  let stderr = '';
  const seen = new Map<string, Record<string, string>>();

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-docker-'));
    const plan = buildPlan('cross-node-broadcast', { driver: 'docker', connections: '300', rooms: '10', rate: '5', duration: '6', warmup: '1', drain: '2', out });
    runId = plan.runId;
    const err = new PassThrough();
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    // Watch the engine while the run goes: which containers carry the run's label.
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const c of await labelled(runId).catch(() => [])) seen.set(c.name, c.labels);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    outcome = await run(plan, { onEvent: eventsInto(err), signal: new AbortController().signal });
    polling = false;
    await poll;
  }, 180_000);

  it('ran without a harness error and recorded the docker driver', () => {
    expect(outcome.report.error, stderr).toBeUndefined();
    expect(outcome.exitCode).toBe(outcome.report.verdict === 'pass' ? 0 : 1);
    expect(outcome.report.topology.driver).toBe('docker');
    expect(Object.keys(outcome.report.topology.versions)).toEqual(expect.arrayContaining(['node', 'redis', 'nginx', 'socket.io', 'docker', 'image:redis', 'image:node', 'image:nginx']));
    expect(outcome.report.topology.versions['image:node']).toContain(DOCKER_IMAGE_DEFAULTS.node);
  });

  it('spread connections over all 3 node containers, and the per-node counts sum to the total', () => {
    expectSpreadOverThreeNodes(outcome.report, 300);
    expect(outcome.report.counters.connections).toBe(300);
  });

  it('delivered every message across nodes exactly once and in order', () => {
    // 10 rooms × (300 − 10 publishers) / 10 = 29 members per room.
    expectExactDelivery(outcome.report, 29);
  });

  it('labelled every container with the run id while it ran, and left none after teardown', async () => {
    expect([...seen.keys()].sort()).toEqual(['nginx', 'node-1', 'node-2', 'node-3', 'redis'].map((c) => `wsb-${runId}-${c}`).sort());
    for (const labels of seen.values()) {
      expect(labels[LABELS.marker]).toBe('true');
      expect(labels[LABELS.run]).toBe(runId);
      expect(Number(labels[LABELS.cliPid])).toBe(process.pid);
    }
    expect(await labelled(runId)).toEqual([]);
  });
});

describe('chaos in containers', () => {
  const runId = `it-chaos-${process.pid}`;
  let cluster: StartedDockerCluster;
  const clients: Socket[] = [];
  const topology: Topology = {
    server: 'socketio',
    nodes: 3,
    lb: 'nginx',
    lbPolicy: 'ip_hash',
    lbPort: 0,
    expectedConnections: 10,
    serverOptions: SERVER_DEFAULTS,
    jwtSecret: 'chaos-secret',
    readyTimeoutMs: 30_000,
  };

  beforeAll(async () => {
    cluster = await new DockerDriver().start(topology, { runId, runDir: mkdtempSync(join(tmpdir(), 'wsb-docker-chaos-')) });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    expect(await cluster?.down()).toEqual([]);
    expect(await labelled(runId)).toEqual([]);
  }, 60_000);

  /** A socket.io client through nginx that reconnects on its own; resolves with the node of its first welcome. */
  function connect(welcomes: string[]): Promise<string> {
    const socket = connectClient(cluster.url, {
      transports: ['websocket'],
      auth: { token: mintToken(topology.jwtSecret, `u${clients.length}`) },
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    clients.push(socket);
    return new Promise((resolve) => {
      socket.on('welcome', (w: { nodeId: string }) => {
        welcomes.push(w.nodeId);
        if (welcomes.length === 1) resolve(w.nodeId);
      });
    });
  }

  function nextWelcome(welcomes: string[], count: number): Promise<string> {
    return new Promise((resolve) => {
      const t = setInterval(() => {
        if (welcomes.length >= count) {
          clearInterval(t);
          resolve(welcomes[count - 1]);
        }
      }, 20);
    });
  }

  it('labels the containers and uses host networking', async () => {
    expect(cluster.network.mode).toBe('host');
    const list = await labelled(runId);
    expect(list.map((c) => c.labels[LABELS.component]).sort()).toEqual(['nginx', 'node-1', 'node-2', 'node-3', 'redis']);
    expect(list.every((c) => c.state === 'running')).toBe(true);
  });

  it('kill (SIGKILL) stops the node container; its client reconnects through nginx to another node; start runs it again on the same port', async () => {
    const welcomes: string[] = [];
    const first = await connect(welcomes);
    const node = cluster.nodes.find((n) => n.id === first)!;
    const id = cluster.containers()[first]!;
    const port = node.port;
    expect((await stateOf(id)).Running).toBe(true);

    await node.kill();
    expect(node.running()).toBe(false);
    expect(node.pid()).toBeUndefined();
    expect((await stateOf(id)).Running).toBe(false);
    expect((await stateOf(id)).Status).toBe('exited');
    await expect(httpGet(`${node.url}/health`, 1000)).rejects.toThrow();

    const second = await nextWelcome(welcomes, 2);
    expect(second).not.toBe(first);

    await node.start();
    expect(node.running()).toBe(true);
    expect(node.port).toBe(port);
    expect((await stateOf(id)).Running).toBe(true);
    expect((await httpGet(`${node.url}/health`, 2000)).status).toBe(200);
  });

  it('stop (SIGTERM) ends the node gracefully: its clients are told server_shutdown first', async () => {
    const welcomes: string[] = [];
    const on = await connect(welcomes);
    const socket = clients[clients.length - 1];
    const shutdown = new Promise<{ reconnectDelay: number }>((resolve) => socket.once('server_shutdown', resolve));
    const node = cluster.nodes.find((n) => n.id === on)!;
    await node.stop();
    expect((await shutdown).reconnectDelay).toBe(5000);
    expect(node.running()).toBe(false);
    expect((await stateOf(cluster.containers()[on]!)).Running).toBe(false);
    await node.start();
    expect(node.running()).toBe(true);
  });

  it('pause freezes the container (docker pause) and resume thaws it', async () => {
    const node = cluster.nodes[1];
    const id = cluster.containers()[node.id]!;
    await node.pause();
    expect((await stateOf(id)).Paused).toBe(true);
    await expect(httpGet(`${node.url}/health`, 500)).rejects.toThrow();
    await node.resume();
    expect((await stateOf(id)).Paused).toBe(false);
    expect((await httpGet(`${node.url}/health`, 2000)).status).toBe(200);
  });

  it('stops and starts redis; the nodes report healthy again afterwards', async () => {
    const id = cluster.containers().redis!;
    await cluster.redis.stop();
    expect((await stateOf(id)).Running).toBe(false);
    expect(await pingRedis('127.0.0.1', cluster.redis.port)).toBe(false);
    await cluster.redis.start();
    expect((await stateOf(id)).Running).toBe(true);
    expect(await pingRedis('127.0.0.1', cluster.redis.port)).toBe(true);
    const metrics = await cluster.metrics();
    expect(metrics.map((m) => m.up)).toEqual([true, true, true]);
  });

  it('chaos actions through the Docker API are observed from outside: stopped parts refuse, started ones answer', async () => {
    const clock = () => Number(process.hrtime.bigint() / 1000n);
    const seen: Array<[string, string, string | undefined]> = [];
    for (const action of [
      { type: 'stop-redis' },
      { type: 'start-redis' },
      { type: 'stop-lb' },
      { type: 'start-lb' },
      { type: 'kill-node', node: 'node-3' },
      { type: 'start-node', node: 'node-3' },
    ] as const) {
      const rec = await applyChaos(cluster, action, clock);
      seen.push([rec.action, rec.outcome, rec.detail]);
    }
    expect(seen).toEqual([
      ['stop-redis', 'ok', 'observed: PING fails'],
      ['start-redis', 'ok', 'observed: PING answers'],
      ['stop-lb', 'ok', `observed: port ${cluster.lb.port} refuses connections`],
      ['start-lb', 'ok', `observed: port ${cluster.lb.port} accepts connections`],
      ['kill-node', 'ok', `observed: port ${cluster.nodes[2].port} refuses connections`],
      ['start-node', 'ok', 'observed: /health answers'],
    ]);
  });
});

describe('docker driver errors and cleanup', () => {
  it('`wsbench doctor` says the docker driver can run here, with host networking, and names a missing image with its fix', async () => {
    const ok = await wsbench(['doctor', '--driver', 'docker']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('docker driver (--driver docker): can run here — host networking');
    expect(ok.stdout).toContain(`image ${DOCKER_IMAGE_DEFAULTS.node} present`);
    const missing = await wsbench(['doctor', '--driver', 'docker', '--node-image', 'wsbench-test/absent:never']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('cannot run here');
    expect(missing.stdout).toContain('image wsbench-test/absent:never not present locally');
    expect(missing.stdout).toContain('scripts/build-local-images.sh');
  });

  it('fails with WSB_IMAGE_MISSING (exit 2, no container left) when an image is absent and pulling is off', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-docker-img-'));
    const plan = buildPlan('cross-node-broadcast', { driver: 'docker', nodeImage: 'wsbench-test/absent:never', dockerPull: 'never', connections: '150', rooms: '5', out });
    const outcome = await run(plan, { signal: new AbortController().signal });
    expect(outcome.exitCode).toBe(2);
    expect(outcome.report.error?.code).toBe('WSB_IMAGE_MISSING');
    expect(outcome.report.error?.hint).toContain('build-local-images.sh');
    expect(await labelled(plan.runId)).toEqual([]);
  });

  it('`wsbench clean` removes the containers of a run whose wsbench process is gone, and leaves a live run alone', async () => {
    // A pid that existed and exited: the owner of the "killed" run.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    const orphanRun = `it-orphan-${process.pid}`;
    const liveRun = `it-live-${process.pid}`;
    const create = async (runId: string, labels: Record<string, string>) => {
      const c = await engine.client.container.dockerode.createContainer({
        Image: DOCKER_IMAGE_DEFAULTS.node,
        name: `wsb-${runId}-node-1`,
        Entrypoint: ['node'],
        Cmd: ['-e', 'setInterval(() => {}, 1000)'],
        Labels: labels,
        HostConfig: { NetworkMode: 'none' },
      });
      await c.start();
      return c;
    };
    await create(orphanRun, { ...runLabels(orphanRun, 'node-1'), [LABELS.cliPid]: String(dead.pid), [LABELS.cliStart]: '1' });
    const live = await create(liveRun, runLabels(liveRun, 'node-1'));
    expect(runLabels(liveRun)[LABELS.cliStart]).toBe(String(processIdentity(process.pid)!.startTime));
    expect(runLabels(liveRun)[LABELS.host]).toBe(os.hostname());
    try {
      const empty = mkdtempSync(join(tmpdir(), 'wsb-clean-'));
      const a = await wsbench(['clean', empty, '--run', orphanRun]);
      expect(a.code).toBe(0);
      expect(a.stdout).toContain(`removed ${orphanRun}: wsb-${orphanRun}-node-1`);
      expect(await labelled(orphanRun)).toEqual([]);

      const b = await wsbench(['clean', empty, '--run', liveRun]);
      expect(b.code).toBe(0);
      expect(b.stdout).toContain(`skipped ${liveRun}: still running (wsbench pid ${process.pid})`);
      expect((await labelled(liveRun)).length).toBe(1);
    } finally {
      await live.remove({ force: true });
    }
  });

  it('on Ctrl-C a docker run tears down: partial report marked interrupted, exit 2, no labelled container left', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-docker-int-'));
    let sent = false;
    let runId = '';
    let containersWhileRunning = 0;
    const r = await wsbench(['run', 'cross-node-broadcast', '--driver', 'docker', '--connections', '150', '--rooms', '5', '--duration', '60', '--out', out], (text, child) => {
      runId ||= /run (\S+)/.exec(text)?.[1] ?? '';
      // Interrupt while the load runs: a few seconds after the cluster is up.
      if (!sent && text.includes('cluster up')) {
        sent = true;
        setTimeout(() => {
          void labelled(runId).then((l) => {
            containersWhileRunning = l.length;
            child.kill('SIGINT');
          });
        }, 3000);
      }
    });
    expect(sent).toBe(true);
    expect(containersWhileRunning).toBe(5);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('stopping…');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runId: string; verdict: string; error?: { code: string } };
    expect(report.runId).toBe(runId);
    expect(report.verdict).toBe('interrupted');
    expect(report.error?.code).toBe('WSB_INTERRUPTED');
    expect(await labelled(runId)).toEqual([]);
  });
});
