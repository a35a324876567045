import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { nowUs } from '../common/clock.js';
import { watchAccept } from './lb-accept.js';
import { tcpConnect } from './observe.js';

const listen = (port = 0): Promise<Server> =>
  new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe('watching for the load balancer to accept again (real sockets on loopback)', () => {
  it('resolves with the first accepted connect after the port starts listening, not before', async () => {
    const probe = await listen();
    const port = (probe.address() as { port: number }).port;
    await close(probe);
    expect(await tcpConnect('127.0.0.1', port, 200)).toBe('refused');
    const watchedFrom = nowUs();
    const watch = watchAccept(`http://127.0.0.1:${port}`, { intervalMs: 5 });
    let settled = false;
    void watch.accepted.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    const server = await listen(port);
    try {
      const at = await watch.accepted;
      expect(at).not.toBeNull();
      // Nothing was accepted while the port was closed: the instant comes after those 100 ms of refusals.
      expect(at!).toBeGreaterThan(watchedFrom);
    } finally {
      await close(server);
    }
  });

  it('gives up with null when stopped, and never polls a host off loopback', async () => {
    const probe = await listen();
    const port = (probe.address() as { port: number }).port;
    await close(probe);
    const w = watchAccept(`http://127.0.0.1:${port}`, { intervalMs: 5 });
    w.stop();
    expect(await w.accepted).toBeNull();
    expect(await watchAccept('http://192.0.2.1:80').accepted).toBeNull();
  });
});
