/**
 * A k6-operator TestRun's runners → `wsbench merge --k6-operator`: rendered by the real bin with an
 * agreed start, run as the operator runs its runners — one real k6 process per runner, each with
 * `--execution-segment=<its share>` and the shared `--execution-segment-sequence`, started
 * together, the runner's env from the ConfigMap (`WSB_RUNNER` = `<name>-<i>` from the pod's
 * job-name label), the claim a folder — against a real loopback cluster (local driver: redis,
 * nginx, 2 socket.io nodes). Three runners (segments 0:1/3, 1/3:2/3, 2/3:1) merge into one
 * report whose accounting equals a one-runner TestRun's of the same plan; the merged histogram
 * holds every runner's latency samples; a missing runner is refused. The 3-runner TestRun has an
 * agreed start (`--start-at`, baked into the plan); the 1-runner one has none (its clock zero comes
 * from its summary's setup_data).
 * Needs a k6 (K6_BIN or PATH); reports itself skipped with the reason where there is none.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDriver } from '../../cluster/local-driver.js';
import { SERVER_DEFAULTS, type StartedCluster } from '../../cluster/types.js';
import { resolveK6Path } from '../../engines/k6/binary.js';
import { executionSegment } from '../../engines/k6/scripts/lib/plan.js';
import { MERGE_KEY, SCRIPT_KEY } from '../../render/k6-operator.js';
import type { RunReport } from '../../model/run-report.js';
import { freePort } from './support/redis.js';
import { wsbench } from './support/cli.js';

const k6 = resolveK6Path(undefined, process.env).path;
const SECRET = 'k6-operator-merge-secret';
const dir = mkdtempSync(join(tmpdir(), 'wsb-k6op-merge-'));
let cluster: StartedCluster | undefined;
const PLAN = ['--connections', '66', '--rooms', '6', '--rate', '4', '--warmup', '1', '--duration', '3', '--drain', '1', '--connect-rate', '200'];

beforeAll(async () => {
  if (!k6) return;
  cluster = await new LocalDriver().start(
    {
      server: 'socketio',
      nodes: 2,
      lb: 'nginx',
      lbPolicy: 'round_robin',
      lbPort: 0,
      expectedConnections: 200,
      serverOptions: { ...SERVER_DEFAULTS, rateLimit: 100_000 },
      jwtSecret: SECRET,
      readyTimeoutMs: 30_000,
    },
    { runId: 'k6-operator-merge', runDir: join(dir, 'cluster') },
  );
}, 90_000);

afterAll(async () => {
  await cluster?.down();
  rmSync(dir, { recursive: true, force: true });
});

function runK6(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(k6!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

interface Ran {
  manifest: string;
  claim: string;
  latencyCounts: number[];
  /** The ConfigMap's WSB_URL and the TestRun's runner image: what the merged report must name. */
  url: string;
  runnerImage: string;
}

/**
 * Renders a TestRun of `parallelism` runners through the real bin (manifest saved as the user
 * would: `render … > file`), runs its runners as the operator does, and returns the manifest, the
 * claim folder and each runner's summary latency count.
 */
async function renderAndRun(name: string, parallelism: number, agreedStart: boolean): Promise<Ran> {
  // With --start-at, publishing starts at the agreed time: far enough ahead of rendering, minting the tokens, k6's start, its setup and the connect phase on a busy machine
  // (two k6 spawned at once finished setup ~8–9 s later at load average 5, k6-shards.test.ts; setup must end ~2 s before
  // the start, so 30 s leaves about twice what rendering, the tokens and that take).
  // Without, each runner counts from its own setup() (recorded in its summary's setup_data).
  const startAt = agreedStart ? new Date(Date.now() + 30_000).toISOString() : undefined;
  const rendered = await wsbench(['render', 'k6-operator', 'cross-node-broadcast', '--name', name, '--url', cluster!.url, '--nodes', '2', '--parallelism', String(parallelism), '--k6', k6!, ...(startAt ? ['--start-at', startAt] : []), ...PLAN]);
  expect(rendered.code, rendered.stderr).toBe(0);
  const manifest = join(dir, `${name}.yaml`);
  writeFileSync(manifest, rendered.stdout);
  const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as { kind: string; data?: Record<string, string>; spec?: any });
  const data = objects.find((o) => o.kind === 'ConfigMap')!.data!;
  const tr = objects.find((o) => o.kind === 'TestRun')!;
  expect(tr.spec.parallelism).toBe(parallelism);
  expect(JSON.parse(data[MERGE_KEY])).toMatchObject({ kind: 'k6-operator', name, parallelism, ...(startAt ? { startAt } : {}) });
  expect(JSON.parse(data.WSB_PLAN).t0EpochMs === undefined).toBe(!startAt);
  const claim = join(dir, `claim-${name}`);
  const results = join(claim, name);
  mkdirSync(results, { recursive: true });
  const script = join(dir, `${name}-${SCRIPT_KEY}`);
  writeFileSync(script, data[SCRIPT_KEY]);
  const tokens = join(dir, `${name}-tokens.json`);
  const t = await wsbench(['tokens', String(JSON.parse(data.WSB_PLAN).connections), '--out', tokens], { env: { ...process.env, WSB_JWT_SECRET: SECRET } });
  expect(t.code).toBe(0);
  const mount = (s: string) => s.replace(/^\/results\//, `${results}/`).replace(/(=)\/results\//, `$1${results}/`).replace(data.WSB_TOKENS_FILE, tokens);
  const runners = await Promise.all(
    Array.from({ length: parallelism }, async (_, k) => {
      const i = k + 1;
      const values: Record<string, string> = { WSB_RUNNER: `${name}-${i}` };
      const expand = (s: string) => s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => values[v] ?? m);
      for (const e of tr.spec.runner.env as Array<{ name: string; value?: string; valueFrom?: any }>) {
        if (e.valueFrom?.configMapKeyRef) values[e.name] = mount(data[e.valueFrom.configMapKeyRef.key]);
        else if (e.value !== undefined) values[e.name] = mount(expand(e.value));
      }
      const seg = executionSegment(i, parallelism);
      const segmentArgs = parallelism > 1 ? [`--execution-segment=${seg.segment}`, `--execution-segment-sequence=${seg.sequence}`] : [];
      const api = await freePort();
      const args = ['run', '--quiet', ...(tr.spec.args as string[]).map((a) => mount(expand(a))), ...segmentArgs, script, `--address=127.0.0.1:${api}`, '--tag', `instance_id=${i}`, '--tag', `testrun_name=${name}`];
      return runK6(args, { PATH: process.env.PATH, HOME: process.env.HOME, ...values });
    }),
  );
  // 0: every threshold held; 99: one crossed on its own share (a runner's exit is not the verdict).
  for (const r of runners) expect([0, 99], r.out.slice(-2000)).toContain(r.code);
  const latencyCounts = Array.from({ length: parallelism }, (_, k) => {
    const s = JSON.parse(readFileSync(join(results, `${name}-${k + 1}.summary.json`), 'utf8')) as { metrics: Record<string, { values: Record<string, number> }> };
    return s.metrics.broadcast_latency_ms?.values.count ?? 0;
  });
  return { manifest, claim, latencyCounts, url: data.WSB_URL, runnerImage: tr.spec.runner.image as string };
}

describe('k6-operator runners → wsbench merge --k6-operator (real k6 on execution segments, real cluster)', () => {
  let one: Ran | undefined;
  let three: Ran | undefined;

  it.skipIf(!k6)(`3 runners (segments 0:1/3, 1/3:2/3, 2/3:1) merge into one exact report with the counts of a 1-runner TestRun (without an agreed start)${k6 ? '' : ' (skipped: k6 not on PATH and K6_BIN not set)'}`, async () => {
    one = await renderAndRun('wsb-k6op-one', 1, false);
    three = await renderAndRun('wsb-k6op-three', 3, true);
    const merge = async (r: { manifest: string; claim: string }, out: string) => {
      const m = await wsbench(['merge', '--k6-operator', r.manifest, r.claim, '--out', out, '--json']);
      expect([0, 1], m.stderr).toContain(m.code);
      return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport & { mergedFrom: { planId: string; shards: Array<{ index: number; hostname: string }> } };
    };
    const m1 = await merge(one, join(dir, 'merged-one'));
    const m3 = await merge(three, join(dir, 'merged-three'));
    expect(m3.mergedFrom.shards.map((s) => s.index)).toEqual([1, 2, 3]);
    expect(m1.mergedFrom.shards.map((s) => s.index)).toEqual([1]);
    // The plan's deliveries, every one accounted: the same expected count however the test was split.
    expect(m1.accounting.expected).toBeGreaterThan(0);
    expect(m3.accounting.expected).toBe(m1.accounting.expected);
    for (const m of [m1, m3]) {
      expect(m.accounting.received).toBe(m.accounting.expected);
      expect(m.accounting.lost).toBe(0);
      expect(m.accounting.duplicated).toBe(0);
      expect(m.counters.messages_published).toBe(m1.counters.messages_published);
    }
    // Percentiles from the runners' samples added together: the merged histogram holds every runner's latencies.
    expect(three.latencyCounts.every((c) => c > 0)).toBe(true);
    expect(m3.metrics.broadcast_latency_ms.count).toBe(three.latencyCounts.reduce((a, b) => a + b, 0));
    expect(m3.metrics.broadcast_latency_ms.count).toBe(m1.metrics.broadcast_latency_ms.count);
    expect(m3.targets.map((t) => t.id)).toContain('latency-p99');
    // The topology is what is true of the runners: a cluster wsbench did not start, reached at the
    // manifest's URL from the TestRun's runner pods (each its own host), versions unknown.
    for (const [m, r, name, n] of [[m1, one, 'wsb-k6op-one', 1], [m3, three, 'wsb-k6op-three', 3]] as const) {
      expect(m.topology).toMatchObject({ driver: 'external', lb: 'external', lbPolicy: 'external', redis: 'external', server: 'socketio', nodes: 2 });
      expect(m.topology.versions).toEqual({});
      expect(m.topology.url).toBe(r.url);
      expect(r.url).toBe(cluster!.url.replace(/^http/, 'ws'));
      expect(m.topology.k6Operator).toEqual({ testRun: name, runners: n, runnerImage: r.runnerImage });
      expect(m.mergedFrom.shards.map((s) => s.hostname)).toEqual(Array.from({ length: n }, (_, k) => `${name}-${k + 1}`));
      expect(m.generator.notes.some((x) => x.startsWith(`merged from ${n} shards of plan ${m.mergedFrom.planId} on ${n} host(s)`))).toBe(true);
    }
  }, 240_000);

  it.skipIf(!k6)(`a runner's files missing: refused with WSB_MERGE_MISSING_SHARD (exit 2)${k6 ? '' : ' (skipped: k6 not on PATH and K6_BIN not set)'}`, async () => {
    expect(three, 'the 3-runner TestRun ran').toBeDefined();
    const partial = join(dir, 'partial-claim');
    mkdirSync(partial, { recursive: true });
    for (const i of [1, 3]) for (const ext of ['.summary.json', '.samples.json.gz']) copyFileSync(join(three!.claim, 'wsb-k6op-three', `wsb-k6op-three-${i}${ext}`), join(partial, `wsb-k6op-three-${i}${ext}`));
    const r = await wsbench(['merge', '--k6-operator', three!.manifest, partial, '--out', join(dir, 'merged-partial')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WSB_MERGE_MISSING_SHARD');
    expect(r.stderr).toContain('runner 2 (wsb-k6op-three-2.summary.json)');
  });
});
