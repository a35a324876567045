/**
 * Chaos outcomes are observed from outside (issue 15): a part whose stop did not stop it, or whose
 * start did not start it, ends `fail` with what was seen. The "parts" here are real sockets on
 * loopback: a tiny Redis that answers PING, and a listening port for the load balancer.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { applyChaos } from './chaos.js';
import type { StartedCluster } from './types.js';
import { redisPing, tcpConnect } from './observe.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A socket that answers every PING with +PONG, like Redis, on `port` (0: a free one). */
async function pong(port = 0): Promise<Server> {
  const s = createServer((c) => c.on('data', () => c.write('+PONG\r\n')));
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return s;
}
const portOf = (s: Server) => (s.address() as { port: number }).port;
const close = (s: Server) => new Promise((r) => s.close(r));

/** A cluster of only Redis and a load balancer, whose stop/start do what `works` says. */
async function cluster(works: boolean): Promise<StartedCluster> {
  let redis = await pong();
  const redisPort = portOf(redis);
  let lb = await pong();
  const lbPort = portOf(lb);
  return {
    url: `http://127.0.0.1:${lbPort}`,
    nodes: [],
    redis: {
      url: `redis://127.0.0.1:${redisPort}`,
      port: redisPort,
      pid: () => undefined,
      stop: async () => void (works && (await close(redis))),
      start: async () => void (works && (redis = await pong(redisPort))),
    },
    lb: {
      port: lbPort,
      pid: () => undefined,
      policy: 'ip_hash',
      stop: async () => void (works && (await close(lb))),
      start: async () => void (works && (lb = await pong(lbPort))),
      reload: async () => undefined,
    },
  } as unknown as StartedCluster;
}

const clock = () => Number(process.hrtime.bigint() / 1000n);

describe('applyChaos observes what it did', () => {
  it('a stopped Redis fails PING and a stopped LB refuses; started, they answer: ok', async () => {
    const c = await cluster(true);
    expect(await redisPing(c.redis.url, 500)).toBe(true);
    expect(await applyChaos(c, { type: 'stop-redis' }, clock)).toMatchObject({ outcome: 'ok', detail: 'observed: PING fails' });
    expect(await redisPing(c.redis.url, 500)).toBe(false);
    expect(await applyChaos(c, { type: 'start-redis' }, clock)).toMatchObject({ outcome: 'ok', detail: 'observed: PING answers' });
    expect(await applyChaos(c, { type: 'stop-lb' }, clock)).toMatchObject({ outcome: 'ok' });
    expect(await tcpConnect('127.0.0.1', c.lb.port, 500)).toBe('refused');
    expect(await applyChaos(c, { type: 'start-lb' }, clock)).toMatchObject({ outcome: 'ok' });
  });

  it('a stop that did not stop anything is a failed action, saying what was seen', async () => {
    const c = await cluster(false);
    expect(await applyChaos(c, { type: 'stop-redis' }, clock)).toMatchObject({ outcome: 'fail', detail: 'Redis still answers PING 3000 ms after it was stopped' });
    expect(await applyChaos(c, { type: 'stop-lb' }, clock)).toMatchObject({ outcome: 'fail', detail: `load balancer port ${c.lb.port} still accepts connections 3000 ms after it was stopped` });
  }, 15_000);

  it('a start that did not start anything is a failed action', async () => {
    const c = await cluster(true);
    await c.redis.stop();
    await c.lb.stop();
    const broken = { ...c, redis: { ...c.redis, start: async () => undefined }, lb: { ...c.lb, start: async () => undefined } } as StartedCluster;
    expect(await applyChaos(broken, { type: 'start-redis' }, clock)).toMatchObject({ outcome: 'fail', detail: 'Redis does not answer PING within 5000 ms of its start' });
    expect(await applyChaos(broken, { type: 'start-lb' }, clock)).toMatchObject({ outcome: 'fail' });
  }, 20_000);

  it('a reload nothing can confirm is unknown, with the hint of what would be observed (it fails chaos-applied, cluster/chaos-tally.ts)', async () => {
    const c = await cluster(true);
    const rec = await applyChaos(c, { type: 'reload-lb' }, clock);
    expect(rec).toMatchObject({ outcome: 'unknown', target: 'nginx', detail: 'SIGHUP sent; nginx does not confirm a reload' });
    expect(rec.hint).toContain('stop-lb and start-lb');
    // An observed action carries no hint.
    expect((await applyChaos(c, { type: 'stop-lb' }, clock)).hint).toBeUndefined();
  });
});
