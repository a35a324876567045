/**
 * A rendered k6-operator TestRun's runner, run as the operator runs it, with the real k6 against a
 * real loopback cluster (local driver: redis-server, nginx, 2 socket.io nodes). What the operator
 * and the kubelet would do is done here by the test: the runner's `env` resolved (the ConfigMap's
 * keys, `WSB_RUNNER` from the pod's job-name label, `$(NAME)` expanded), the tokens minted by
 * `wsbench tokens` as the init container mints them, the claim at `/results` mapped to a folder,
 * and the operator's command around the rendered args (`k6 run --quiet <args> <script> --tag
 * instance_id=1 --tag testrun_name=<name>`). It asserts each runner's outputs land where
 * docs/kubernetes.md says, complete: k6's JSON samples hold exactly the latencies its summary
 * counted, every delivery of the plan is accounted.
 * Needs a k6 (K6_BIN or PATH); reports itself skipped with the reason where there is none.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDriver } from '../../cluster/local-driver.js';
import { SERVER_DEFAULTS, type StartedCluster } from '../../cluster/types.js';
import { resolveK6Path } from '../../engines/k6/binary.js';
import { buildRender } from '../../cli/render-plan.js';
import type { K8sObject } from '../../render/k8s.js';
import { SCRIPT_KEY } from '../../render/k6-operator.js';
import { freePort } from './support/redis.js';
import { wsbench } from './support/cli.js';

const k6 = resolveK6Path(undefined, process.env).path;
const SECRET = 'render-k6-runner-secret';
const NAME = 'wsb-render-runner';
const dir = mkdtempSync(join(tmpdir(), 'wsb-render-runner-'));
let cluster: StartedCluster | undefined;

beforeAll(async () => {
  if (!k6) return;
  cluster = await new LocalDriver().start(
    {
      server: 'socketio',
      nodes: 2,
      lb: 'nginx',
      lbPolicy: 'ip_hash',
      lbPort: 0,
      expectedConnections: 200,
      serverOptions: { ...SERVER_DEFAULTS, rateLimit: 100_000 },
      jwtSecret: SECRET,
      readyTimeoutMs: 30_000,
    },
    { runId: 'render-k6-runner', runDir: join(dir, 'cluster') },
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

describe('a rendered k6-operator runner, run as the operator runs it (real k6, real cluster)', () => {
  it.skipIf(!k6)(`writes <name>-1.summary.json, .summary-export.json and .samples.json.gz into the claim; the samples are the summary's${k6 ? '' : ' (skipped: k6 not on PATH and K6_BIN not set)'}`, async () => {
    const r = await buildRender(
      'k6-operator',
      'cross-node-broadcast',
      { name: NAME, url: cluster!.url, nodes: '2', parallelism: '1', k6: k6!, connections: '66', rooms: '6', rate: '4', warmup: '1', duration: '3', drain: '1', connectRate: '200' },
      {},
    );
    const cm = r.objects.find((o) => o.kind === 'ConfigMap')!;
    const tr = r.objects.find((o) => o.kind === 'TestRun') as K8sObject & { spec: any };
    const data = cm.data as Record<string, string>;
    const results = join(dir, 'claim', NAME);
    mkdirSync(results, { recursive: true }); // the kubelet creates the subPath folder
    const script = join(dir, SCRIPT_KEY);
    writeFileSync(script, data[SCRIPT_KEY]);
    const tokens = join(dir, 'tokens.json');
    const t = await wsbench(['tokens', String(JSON.parse(data.WSB_PLAN).connections), '--out', tokens], { env: { ...process.env, WSB_JWT_SECRET: SECRET } });
    expect(t.code).toBe(0);

    // The volumes: the claim's run folder at /results, the tokens' emptyDir at /wsbench-tokens.
    const mount = (s: string) => s.replace(/^\/results\//, `${results}/`).replace(/(=)\/results\//, `$1${results}/`).replace(data.WSB_TOKENS_FILE, tokens);
    const values: Record<string, string> = { WSB_RUNNER: `${NAME}-1` };
    const expand = (s: string) => s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => values[n] ?? m);
    for (const e of tr.spec.runner.env as Array<{ name: string; value?: string; valueFrom?: any }>) {
      if (e.valueFrom?.configMapKeyRef) values[e.name] = mount(data[e.valueFrom.configMapKeyRef.key]);
      else if (e.value !== undefined) values[e.name] = mount(expand(e.value));
    }
    const args = (tr.spec.args as string[]).map((a) => mount(expand(a)));
    const api = await freePort();
    const k6run = await runK6(['run', '--quiet', ...args, script, `--address=127.0.0.1:${api}`, '--tag', 'instance_id=1', '--tag', `testrun_name=${NAME}`], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...values,
    });
    // 0: every threshold held; 99: one crossed (a verdict on a shared machine, not a failure of the runner).
    expect([0, 99], k6run.out.slice(-2000)).toContain(k6run.code);

    const base = join(results, `${NAME}-1`);
    for (const ext of ['.summary.json', '.summary-export.json', '.samples.json.gz']) expect(existsSync(`${base}${ext}`), `${base}${ext}`).toBe(true);
    const summary = JSON.parse(readFileSync(`${base}.summary.json`, 'utf8')) as { metrics: Record<string, { values: Record<string, number> }> };
    const count = (m: string) => summary.metrics[m]?.values.count;
    // Every delivery the plan expects was received, none twice (a small quiet run).
    expect(count('deliveries_expected')).toBeGreaterThan(0);
    expect(count('deliveries_received')).toBe(count('deliveries_expected'));
    expect(count('deliveries_duplicated')).toBe(0);

    // k6's own samples (what a merge reads for latencies): exactly the latencies the summary counted, each tagged with its runner.
    const lines = gunzipSync(readFileSync(`${base}.samples.json.gz`)).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; metric: string; data: { value: number; tags: Record<string, string> } });
    const latencies = lines.filter((l) => l.type === 'Point' && l.metric === 'broadcast_latency_ms');
    expect(latencies.length).toBe(count('broadcast_latency_ms'));
    expect(latencies.length).toBeGreaterThan(0);
    expect(new Set(latencies.map((l) => l.data.tags.instance_id))).toEqual(new Set(['1']));
  }, 180_000);
});
