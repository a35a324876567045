import { describe, expect, it } from 'vitest';
import { buildRender } from '../cli/render-plan.js';
import { parseManifests, validateObject } from '../test/support/k8s-validate.js';
import { toYaml, type K8sObject } from './k8s.js';
import { mergeCommand, partialPaths, shardCommand } from './node-job.js';

type Obj = K8sObject & { spec?: any; data?: Record<string, string> };
const NOW = new Date('2026-12-07T00:00:00Z');

describe('render node-job', () => {
  const flags = { parallelism: '3', connections: '3000', startAt: '2026-12-07T00:10:00Z' };

  it('the claim, the ConfigMap, the Indexed Job (completions = parallelism = N) and the merge Job; all valid, YAML round-trips', async () => {
    const r = await buildRender('node-job', 'cross-node-broadcast', flags, {}, NOW);
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'PersistentVolumeClaim/wsbench-cross-node-broadcast-results',
      'ConfigMap/wsbench-cross-node-broadcast-config',
      'Job/wsbench-cross-node-broadcast',
      'Job/wsbench-cross-node-broadcast-merge',
    ]);
    for (const o of r.objects) expect(validateObject(o), `${o.kind} ${o.metadata.name}`).toEqual([]);
    expect(parseManifests(toYaml(r))).toEqual(r.objects);
    const job = r.objects[2] as Obj;
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimit: 0 });
    // The image runs as `node` (gid 1000): the claim is made writable for it, in the shards and in merge.
    for (const j of [job, r.objects[3] as Obj]) expect(j.spec.template.spec.securityContext).toEqual({ fsGroup: 1000 });
  });

  it('each pod runs `wsbench run --shard $((JOB_COMPLETION_INDEX+1))/N --start-at … --out /results/shard-<i>` through sh -c, against its NGINX sidecar', async () => {
    const r = await buildRender('node-job', 'cross-node-broadcast', flags, {}, NOW);
    const spec = (r.objects[2] as Obj).spec.template.spec;
    const [c] = spec.containers;
    expect(c.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(c.command[2]).toBe(
      'i=$((JOB_COMPLETION_INDEX + 1)); exec wsbench run cross-node-broadcast --config /etc/wsbench/wsbench.json --url http://127.0.0.1:8080 --shard "$i/3" --start-at 2026-12-07T00:10:00.000Z --out "/results/shard-$i"',
    );
    expect(c.env).toEqual([{ name: 'WSB_JWT_SECRET', valueFrom: { secretKeyRef: { name: 'wsbench-jwt', key: 'WSB_JWT_SECRET' } } }]);
    const [lb] = spec.initContainers;
    expect(lb).toMatchObject({ name: 'lb', restartPolicy: 'Always' });
    expect(lb.startupProbe.httpGet).toEqual({ path: '/nginx-health', port: 8080 });
    const conf = (r.objects[1] as Obj).data!['nginx.conf'];
    expect([...conf.matchAll(/^\s*server (\S+) max_fails=0;$/gm)].map((m) => m[1])).toEqual(['wsbench-node-1:3000', 'wsbench-node-2:3000', 'wsbench-node-3:3000']);
  });

  it('the shell command computes the 1-based shard from the 0-based index (run by a real sh)', async () => {
    const { execFileSync } = await import('node:child_process');
    const cmd = shardCommand({ scenario: 'throughput', parallelism: 4, startAt: '2026-12-07T00:10:00.000Z' }).replace('exec wsbench run', 'echo');
    const out = [0, 3].map((i) => execFileSync('sh', ['-c', cmd], { env: { JOB_COMPLETION_INDEX: String(i) } }).toString().trim());
    expect(out).toEqual([
      'throughput --config /etc/wsbench/wsbench.json --url http://127.0.0.1:8080 --shard 1/4 --start-at 2026-12-07T00:10:00.000Z --out /results/shard-1',
      'throughput --config /etc/wsbench/wsbench.json --url http://127.0.0.1:8080 --shard 4/4 --start-at 2026-12-07T00:10:00.000Z --out /results/shard-4',
    ]);
  });

  it('the merge Job waits for every partial, then merges them in shard order', () => {
    expect(partialPaths(3)).toEqual(['/results/shard-1/partial.json', '/results/shard-2/partial.json', '/results/shard-3/partial.json']);
    expect(mergeCommand(2)).toBe(
      'until [ -f /results/shard-1/partial.json ] && [ -f /results/shard-2/partial.json ]; do echo "waiting for 2 partials"; sleep 10; done; exec wsbench merge /results/shard-1/partial.json /results/shard-2/partial.json --out /results/merged',
    );
  });

  it('the config file the pods read holds the validated options and targets, as `wsbench run --config` reads it', async () => {
    const r = await buildRender('node-job', 'cross-node-broadcast', { ...flags, target: ['latency-p99=30'] }, {}, NOW);
    const cfg = JSON.parse((r.objects[1] as Obj).data!['wsbench.json']);
    expect(cfg).toMatchObject({ server: 'socketio', nodes: 3, connections: 3000, targets: { 'latency-p99': 30 } });
  });

  it('--cpu / --memory become the shard container\'s requests (no limits); a bad quantity is refused', async () => {
    const r = await buildRender('node-job', 'cross-node-broadcast', { cpu: '1500m', memory: '2Gi' }, {}, NOW);
    const job = r.objects.find((o) => o.kind === 'Job') as Obj;
    expect(job.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '1500m', memory: '2Gi' } });
    expect(validateObject(job)).toEqual([]);
    await expect(buildRender('node-job', 'cross-node-broadcast', { cpu: 'two' }, {}, NOW)).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining("--cpu: 'two'") });
  });

  it('without --start-at, the start is --start-delay seconds after rendering', async () => {
    const r = await buildRender('node-job', 'cross-node-broadcast', { startDelay: '120' }, {}, NOW);
    expect((r.objects[2] as Obj).spec.template.spec.containers[0].command[2]).toContain('--start-at 2026-12-07T00:02:00.000Z');
  });

  it('--upstream replaces the rendered cluster\'s node Services; --results-claim uses an existing claim', async () => {
    const r = await buildRender('node-job', 'cross-node-broadcast', { upstream: ['chat-a:9000', 'chat-b:9000'], resultsClaim: 'shared-results' }, {}, NOW);
    expect(r.objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    const conf = (r.objects[0] as Obj).data!['nginx.conf'];
    expect(conf).toMatch(/server chat-a:9000 max_fails=0;\s*server chat-b:9000 max_fails=0;/);
    expect((r.objects[1] as Obj).spec.template.spec.volumes).toContainEqual({ name: 'results', persistentVolumeClaim: { claimName: 'shared-results' } });
  });

  it('refuses what cannot work: a past or zone-less --start-at, a chaos or unshardable scenario, a bad --upstream, a scenario option out of range', async () => {
    await expect(buildRender('node-job', 'throughput', {}, {}, NOW)).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining('wsbench run --shard cannot split it') });
    await expect(buildRender('node-job', 'cross-node-broadcast', { startAt: '2026-12-06T23:00:00Z' }, {}, NOW)).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining('already past') });
    await expect(buildRender('node-job', 'cross-node-broadcast', { startAt: '2026-12-07 01:00' }, {}, NOW)).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining('ISO time') });
    await expect(buildRender('node-job', 'node-kill', {}, {}, NOW)).rejects.toMatchObject({ code: 'WSB_EXTERNAL_UNSUPPORTED' });
    await expect(buildRender('node-job', 'cross-node-broadcast', { upstream: ['nohost'] }, {}, NOW)).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining('--upstream') });
    await expect(buildRender('node-job', 'cross-node-broadcast', { connections: '-5' }, {}, NOW)).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining('--connections') });
  });
});
