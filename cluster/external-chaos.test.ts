import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalDriver } from './external-driver.js';
import { applyChaos } from './chaos.js';
import { SERVER_DEFAULTS, type Topology } from './types.js';

// A loopback stand-in for a node of a cluster wsbench did not start: it answers /health as a healthy reference node does.
let server: Server;
let base: string;
const topology: Topology = { server: 'socketio', nodes: 1, lb: 'nginx', lbPolicy: 'ip_hash', lbPort: 0, expectedConnections: 1, serverOptions: SERVER_DEFAULTS, jwtSecret: 's', readyTimeoutMs: 2000 };
let clock = 0;
const tick = () => (clock += 1000);

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', nodeId: 'node-1', redis: 'ready' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('chaos on a cluster wsbench did not start (hooks)', () => {
  it('a hook that exits non-zero fails the action, with its command, exit code and output in the detail', async () => {
    const c = await new ExternalDriver({ url: base, nodeUrls: [base], hooks: { killNode: 'echo no such pod {node} >&2; exit 4' } }).start(topology, { runId: 'x', runDir: '/tmp' });
    const rec = await applyChaos(c, { type: 'kill-node', node: 'node-1' }, tick);
    expect(rec).toMatchObject({ action: 'kill-node', target: 'node-1', outcome: 'fail', detail: 'hook killNode "echo no such pod node-1 >&2; exit 4" exit 4: no such pod node-1' });
    expect(c.nodes[0].running()).toBe(true);
    await c.down();
  });

  it('an action without its hook fails naming the config key; stopRedis that changes nothing fails; without node URLs Redis cannot be observed (unknown)', async () => {
    const c = await new ExternalDriver({ url: base, nodeUrls: [base], hooks: { stopRedis: 'true' } }).start(topology, { runId: 'x', runDir: '/tmp' });
    const pause = await applyChaos(c, { type: 'pause-node', node: 'node-1' }, tick);
    expect(pause.outcome).toBe('fail');
    expect(pause.detail).toContain('chaos.hooks.pauseNode is not set');
    const stop = await applyChaos(c, { type: 'stop-redis' }, tick);
    expect(stop).toMatchObject({ outcome: 'fail', target: 'redis' });
    expect(stop.detail).toMatch(/^hook stopRedis "true" exit 0; every node's \/health still reports Redis ready \d+ ms after the hook$/);
    await c.down();
    const blind = await new ExternalDriver({ url: base, nodeUrls: [], hooks: { stopRedis: 'true' } }).start(topology, { runId: 'x', runDir: '/tmp' });
    // Unknown is not a pass: the record says what would let wsbench observe it (ChaosTally makes it fail chaos-applied).
    expect(await applyChaos(blind, { type: 'stop-redis' }, tick)).toMatchObject({
      outcome: 'unknown',
      detail: 'hook stopRedis "true" exit 0; the hook exited 0; without --node-urls nothing can observe Redis of a cluster wsbench did not start',
      hint: expect.stringContaining('--node-urls'),
    });
    await blind.down();
  });
});
