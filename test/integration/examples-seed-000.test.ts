/**
 * examples/seed-000 — seed 000's Socket.IO cluster server as its reader writes it — run through the
 * real bin with its own wsbench.config.ts: 3 nodes of `node server.js`, wsbench's redis-server and
 * NGINX, the seed's protocol as a profile (no node announcement: the node comes from NGINX's
 * upstream header).
 */
import { describe, expect, it } from 'vitest';
import { runExample } from './support/examples.js';

/** The seed's `config.rateLimit.maxRequests`: handshakes per window per IP, per node (its limiter lives in each process). */
const SEED_HANDSHAKES_PER_WINDOW = 100;

describe('examples/seed-000 (the seed as written, through the bin)', () => {
  it('with the seed’s own rate limit, behind NGINX every client shares one IP: each node lets 100 handshakes in and holds the rest, which fail by cause', async () => {
    const r = await runExample('seed-000', 'seed-defaults');
    const report = r.report!;
    expect(report, r.stderr).toBeDefined();
    expect(report.error, r.stderr).toBeUndefined();
    expect(report.topology.server).toBe('custom');
    const cap = report.capacity!;
    const failed = Object.values(cap.failuresByCause).reduce((a, b) => a + b, 0);
    // 400 attempts over 3 nodes: at most 100 per node get in (the seed's limiter, keyed on
    // NGINX's address), every other attempt is a counted failure — none vanishes.
    expect(cap.connected + failed).toBe(400);
    expect(cap.connected).toBeLessThanOrEqual(3 * SEED_HANDSHAKES_PER_WINDOW);
    for (const n of Object.values(report.connectionsPerNode)) expect(n).toBeLessThanOrEqual(SEED_HANDSHAKES_PER_WINDOW);
    // limiter 1.x without fireImmediately queues a handshake past the limit until the next minute
    // (the seed's `remaining < 0` refusal never runs): the client sees a connect timeout.
    expect(cap.failuresByCause.timeout).toBe(failed);
    expect(report.counters.connect_failures).toBe(failed);
    // The config's own target on the seed's promise of 10,000 connections per worker fails, with
    // the config file as its source; the run exits 1.
    const t = report.targets.find((x) => x.id === 'connections-accepted')!;
    expect(t.status).toBe('fail');
    expect(t.actual).toBe(failed);
    expect(r.code).toBe(1);
  });

  it('cross-node-broadcast with the seed’s rateLimit raised (env): every delivery accounted, the sender left out, same/cross split from NGINX', async () => {
    // Shorter than the example's run (the counts below hold for any length): 20 publishers × 8/s × 4 s.
    const r = await runExample('seed-000', 'cross-node-broadcast', ['--warmup', '1', '--duration', '3', '--drain', '1']);
    const report = r.report!;
    expect(report, r.stderr).toBeDefined();
    expect(report.error, r.stderr).toBeUndefined();
    const a = report.accounting;
    expect(a.expected).toBeGreaterThan(0);
    expect(a.received).toBe(a.expected);
    expect(a.lost).toBe(0);
    expect(a.duplicated).toBe(0);
    expect(a.reordered).toBe(0);
    expect(report.counters.connect_failures).toBe(0);
    // `socket.to(roomId).emit(...)`: every member but the publisher — 600 connections in 20 rooms.
    expect(a.expected).toBe(report.counters.messages_published * (600 / 20 - 1));
    // The split is known (the node of every client from NGINX's header), on all three nodes.
    expect(Object.keys(report.connectionsPerNode).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(a.sameNode.expected).toBeGreaterThan(0);
    expect(a.crossNode.expected).toBeGreaterThan(0);
    expect(a.sameNode.expected + a.crossNode.expected).toBe(a.expected);
    expect(a.crossNode.received).toBe(a.crossNode.expected);
    // The delivery targets pass (the latency ones depend on the machine: exit 0 or 1 as they go).
    for (const id of ['no-loss', 'no-duplicates', 'in-order', 'no-leak']) expect(report.targets.find((t) => t.id === id)!.status, id).toBe('pass');
    expect(report.counters.unexpected_arrivals).toBe(0);
    expect(r.code).toBe(report.verdict === 'pass' ? 0 : 1);
  });

  it('node-kill: loss is classified as for the reference server — survivors lose nothing, every loss lies in a disconnection window', async () => {
    // A shorter warm-up than the example's (3 s): the kill and what follows it unchanged.
    const r = await runExample('seed-000', 'node-kill', ['--warmup', '1', '--duration', '8', '--kill-at', '2', '--node', 'node-2']);
    const report = r.report!;
    expect(report, r.stderr).toBeDefined();
    expect(report.error, r.stderr).toBeUndefined();
    const kill = report.events.find((e) => e.type === 'kill-node');
    expect(kill).toMatchObject({ target: 'node-2', outcome: 'ok' });
    const rc = report.reconnection!;
    expect(rc.disconnections).toBe(report.connectionsPerNode['node-2']);
    expect(rc.reconnected + rc.neverBack).toBe(rc.disconnections);
    const l = report.accounting.losses!;
    expect(l.lostConnected).toBe(0);
    expect(l.lostDisconnected + l.lostPublisherDown + l.neverSent!).toBe(report.accounting.lost);
    expect(report.accounting.duplicated).toBe(0);
    expect(report.targets.find((t) => t.id === 'no-loss-while-connected')!.status).toBe('pass');
  });

  it('rolling-restart: the seed’s shutdown (server_shutdown, then disconnect(true)) ends its client’s reconnection — the report shows who never came back', async () => {
    // Short: what is asserted is who came back, not how long the restarts took. No settle between
    // nodes (the next stop waits only for clients still reconnecting — here none: they gave up).
    const r = await runExample('seed-000', 'rolling-restart', ['--warmup', '1', '--duration', '6', '--first-at', '1', '--settle', '0', '--drain', '1']);
    const report = r.report!;
    expect(report, r.stderr).toBeDefined();
    expect(report.error, r.stderr).toBeUndefined();
    const rc = report.reconnection!;
    // A server-initiated disconnect stops socket.io-client's reconnection, and the seed's client
    // reconnects on server_shutdown only when it was given several URLs (one here: NGINX).
    expect(rc.disconnections).toBeGreaterThan(0);
    expect(rc.neverBack).toBe(rc.disconnections);
    expect(rc.reconnected).toBe(0);
    expect(report.targets.find((t) => t.id === 'reconnect-all')!.status).not.toBe('pass');
    // The nodes themselves did go and come back: the seed's server has no /health (its ready check
    // is a log line), so each stop is seen at its port and each start by its port accepting again.
    const restarts = report.events.filter((e) => e.type === 'stop-node' || e.type === 'start-node');
    expect(restarts.map((e) => [e.type, e.outcome]), JSON.stringify(restarts)).toEqual(
      ['node-1', 'node-2', 'node-3'].flatMap(() => [['stop-node', 'ok'], ['start-node', 'ok']]),
    );
    expect(r.code).toBe(1);
  });
});
