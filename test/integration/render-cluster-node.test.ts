/**
 * A rendered reference node's container, run as its pod would run it, on this machine: the
 * command and arguments of `render cluster` with the image's folder (/wsbench) mapped to this
 * checkout, the Redis Service mapped to a real redis-server on loopback, `--host 0.0.0.0` (a pod's
 * own network) to 127.0.0.1 and port 3000 to port 0, and WSB_JWT_SECRET from the rendered Secret.
 * It asserts that the real reference server accepts every rendered flag, listens and answers
 * /health as the readiness probe asks — for the socket.io (node) and the Bun variant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRender } from '../../cli/render-plan.js';
import { packageRoot } from '../../common/paths.js';
import type { K8sObject } from '../../render/k8s.js';
import { startRedis, type RedisHandle } from './support/redis.js';
import { spawnProgram, type Listening } from './support/reference-variants.js';

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('a rendered reference node runs as its pod would (real server, real Redis)', () => {
  for (const server of ['socketio', 'bun'] as const) {
    it(`${server}: the rendered command and flags start a node that answers the readiness probe`, async () => {
      const r = await buildRender('cluster', 'cross-node-broadcast', { server, nodes: '2' }, { WSB_JWT_SECRET: 'render-node-secret' });
      const dep = r.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'wsbench-node-2') as K8sObject & { spec: any };
      const secret = r.objects.find((o) => o.kind === 'Secret') as K8sObject & { stringData: Record<string, string> };
      const c = dep.spec.template.spec.containers[0];
      const local = (s: string) =>
        s
          .replace(/^\/wsbench\//, `${packageRoot()}/`)
          .replace('redis://wsbench-redis:6379', redis.url)
          .replace(/^0\.0\.0\.0$/, '127.0.0.1');
      const argv = [...c.command, ...c.args].map(local);
      argv[argv.indexOf('--port') + 1] = '0';
      const [command, ...args] = argv;
      const env = Object.fromEntries((c.env as Array<{ name: string; value?: string; valueFrom?: any }>).map((e) => [e.name, e.value ?? secret.stringData[e.valueFrom.secretKeyRef.key]]));
      const proc = spawnProgram(command === 'node' ? process.execPath : command, args, { PATH: process.env.PATH, ...env });
      try {
        const listening = await new Promise<Listening>((resolve, reject) => {
          proc.onLine((line) => resolve(JSON.parse(line) as Listening));
          void proc.exited.then((e) => reject(new Error(`exited ${e.code ?? e.signal}: ${proc.stderr()}`)));
        });
        expect(listening).toMatchObject({ nodeId: 'node-2' });
        const health = await fetch(`http://127.0.0.1:${listening.port}${c.readinessProbe.httpGet.path}`);
        expect(health.status).toBe(200);
      } finally {
        await proc.stop();
      }
    });
  }
});
