import { describe, expect, it } from 'vitest';
import { buildRender } from '../cli/render-plan.js';
import { parseManifests, validateObject } from '../test/support/k8s-validate.js';
import { toYaml, type K8sObject } from './k8s.js';

type Obj = K8sObject & { spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };
const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as Obj;

describe('render cluster', () => {
  it('a Deployment and a Service per node, Redis, the NGINX ConfigMap + Deployment + Service, the Secret; all valid, YAML round-trips', async () => {
    const r = await buildRender('cluster', undefined, { nodes: '4' }, { WSB_JWT_SECRET: 's3cret' });
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Secret/wsbench-jwt',
      'Deployment/wsbench-redis',
      'Service/wsbench-redis',
      ...[1, 2, 3, 4].flatMap((i) => [`Deployment/wsbench-node-${i}`, `Service/wsbench-node-${i}`]),
      'ConfigMap/wsbench-nginx',
      'Deployment/wsbench-lb',
      'Service/wsbench-lb',
    ]);
    for (const o of r.objects) expect(validateObject(o), `${o.kind} ${o.metadata.name}`).toEqual([]);
    expect(parseManifests(toYaml(r))).toEqual(r.objects);
    expect(find(r.objects, 'Secret', 'wsbench-jwt').stringData).toEqual({ WSB_JWT_SECRET: 's3cret' });
  });

  it('without WSB_JWT_SECRET (unset or empty) the Secret gets a fresh random secret, different each time', async () => {
    const secretOf = async (env: NodeJS.ProcessEnv) => find((await buildRender('cluster', undefined, {}, env)).objects, 'Secret', 'wsbench-jwt').stringData!.WSB_JWT_SECRET;
    const [a, b] = [await secretOf({}), await secretOf({ WSB_JWT_SECRET: '' })];
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });

  it("each node Service selects only its node's pod; the NGINX config's upstreams are the node Services", async () => {
    const r = await buildRender('cluster', undefined, { nodes: '3', lbPolicy: 'least_conn' }, {});
    for (const i of [1, 2, 3]) {
      const svc = find(r.objects, 'Service', `wsbench-node-${i}`);
      const dep = find(r.objects, 'Deployment', `wsbench-node-${i}`);
      expect(svc.spec.selector['wsbench.node']).toBe(`node-${i}`);
      expect(dep.spec.selector.matchLabels).toEqual(svc.spec.selector);
      expect(dep.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
      const c = dep.spec.template.spec.containers[0];
      expect(c.args).toEqual(expect.arrayContaining(['--node-id', `node-${i}`, '--redis', 'redis://wsbench-redis:6379', '--host', '0.0.0.0']));
      // The secret comes from the Secret, never from argv or a literal.
      expect(JSON.stringify(c)).not.toMatch(/--jwt-secret/);
      expect(c.env).toContainEqual({ name: 'WSB_JWT_SECRET', valueFrom: { secretKeyRef: { name: 'wsbench-jwt', key: 'WSB_JWT_SECRET' } } });
    }
    const conf = find(r.objects, 'ConfigMap', 'wsbench-nginx').data!['nginx.conf'];
    const servers = [...conf.matchAll(/^\s*server (\S+) max_fails=0;$/gm)].map((m) => m[1]);
    expect(servers).toEqual(['wsbench-node-1:3000', 'wsbench-node-2:3000', 'wsbench-node-3:3000']);
    expect(conf).toMatch(/^\s*least_conn;$/m);
    expect(conf).toMatch(/listen 0\.0\.0\.0:8080/);
    const lb = find(r.objects, 'Deployment', 'wsbench-lb').spec.template.spec;
    expect(lb.volumes).toContainEqual({ name: 'nginx-conf', configMap: { name: 'wsbench-nginx' } });
  });

  it("with a scenario, the nodes get what `wsbench run` would set (cross-node-broadcast raises the rate limit)", async () => {
    const plain = await buildRender('cluster', undefined, {}, {});
    const tuned = await buildRender('cluster', 'cross-node-broadcast', { rate: '20' }, {});
    const rateOf = (r: typeof plain) => {
      const args = find(r.objects, 'Deployment', 'wsbench-node-1').spec.template.spec.containers[0].args as string[];
      return Number(args[args.indexOf('--rate-limit') + 1]);
    };
    expect(rateOf(plain)).toBe(100);
    expect(rateOf(tuned)).toBeGreaterThanOrEqual(20 * 60);
  });

  it("the user's server image gets PORT, REDIS_URL, NODE_ID and the secret, its own command, and its args", async () => {
    const r = await buildRender('cluster', undefined, { serverImage: 'registry.example/chat:1.2', serverArg: ['--cluster'], serverPort: '8000', healthPath: '/ready', existingSecret: true }, {});
    expect(r.objects.some((o) => o.kind === 'Secret')).toBe(false);
    const c = find(r.objects, 'Deployment', 'wsbench-node-2').spec.template.spec.containers[0];
    expect(c.image).toBe('registry.example/chat:1.2');
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(['--cluster']);
    expect(c.env).toEqual(expect.arrayContaining([{ name: 'PORT', value: '8000' }, { name: 'REDIS_URL', value: 'redis://wsbench-redis:6379' }, { name: 'NODE_ID', value: 'node-2' }]));
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 8000 });
    expect(find(r.objects, 'ConfigMap', 'wsbench-nginx').data!['nginx.conf']).toMatch(/server wsbench-node-2:8000 max_fails=0;/);
  });

  it('the bun variant runs bun-main.js under the bun of the image', async () => {
    const r = await buildRender('cluster', undefined, { server: 'bun', nodes: '1' }, {});
    const c = find(r.objects, 'Deployment', 'wsbench-node-1').spec.template.spec.containers[0];
    expect(c.command).toEqual(['/wsbench/node_modules/.bin/bun', '/wsbench/dist/reference-server/bun-main.js']);
  });

  it('refuses bad values, all at once, with WSB_INVALID_OPTION', async () => {
    await expect(buildRender('cluster', undefined, { nodes: '0', name: 'x'.repeat(41), serverArg: ['a'], healthPath: 'ready', redisImage: 'Bad Image' }, {})).rejects.toMatchObject({
      code: 'WSB_INVALID_OPTION',
      message: expect.stringMatching(/--name:[\s\S]*--nodes: must be a whole number from 1 to 32[\s\S]*--server-arg: only applies with --server-image[\s\S]*--redis-image[\s\S]*--health-path/),
    });
    await expect(buildRender('pods', undefined, {}, {})).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: "render: unknown kind 'pods'" });
    await expect(buildRender('cluster', 'no-such-scenario', {}, {})).rejects.toMatchObject({ code: 'WSB_UNKNOWN_SCENARIO' });
  });

  it('a Deployment the Kubernetes schema rejects is caught (validation can fail)', async () => {
    const r = await buildRender('cluster', undefined, { nodes: '1' }, {});
    const good = find(r.objects, 'Deployment', 'wsbench-node-1');
    const badPort = structuredClone(good);
    badPort.spec.template.spec.containers[0].ports[0].containerPort = '3000';
    expect(validateObject(badPort).join('\n')).toMatch(/containerPort must be integer/);
    const noSelector = structuredClone(good);
    delete noSelector.spec.selector;
    expect(validateObject(noSelector).join('\n')).toMatch(/spec must have required property selector/);
  });
});
