import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from './plan.js';
import { buildClusterSpec } from './cluster-commands.js';
import { WsbenchError } from '../common/errors.js';

function error(fn: () => unknown): WsbenchError {
  try {
    fn();
  } catch (e) {
    return e as WsbenchError;
  }
  throw new Error('did not throw');
}

describe('buildPlan: --shard i/N', () => {
  it('gives every shard of one plan the same plan id and its own share', () => {
    const flags = { connections: '300', rooms: '10', startAt: '2030-01-01T00:00:00Z' };
    const p1 = buildPlan('cross-node-broadcast', { ...flags, shard: '1/3' });
    const p3 = buildPlan('cross-node-broadcast', { ...flags, shard: '3/3', workers: '1' });
    expect(p1.shard!.planId).toBe(p3.shard!.planId);
    expect(p1.shard!.share).toMatchObject({ index: 1, count: 3, connections: 120, rooms: [0, 3, 6, 9] });
    expect(p3.shard!.share).toMatchObject({ connections: 90, roomNames: ['room-3', 'room-6', 'room-9'] });
    expect(p1.shard!.startAtMs).toBe(Date.parse('2030-01-01T00:00:00Z'));
    expect(p1.runId).toMatch(/-shard-1of3$/);
    // The report keeps the plan's options; the share is applied when the scenario runs.
    expect(p1.options.connections).toBe(300);
    expect(buildPlan('cross-node-broadcast', { ...flags, shard: '1/2' }).shard!.planId).not.toBe(p1.shard!.planId);
    expect(buildPlan('cross-node-broadcast', { ...flags, shard: '1/3', rate: '4' }).shard!.planId).not.toBe(p1.shard!.planId);
    // The k6 engine shards too (execution segments), as a different plan than the Node engine's.
    const k1 = buildPlan('cross-node-broadcast', { ...flags, shard: '1/3', engine: 'k6' });
    expect(k1.shard!.share.roomNames).toEqual(p1.shard!.share.roomNames);
    expect(k1.shard!.planId).toBe(buildPlan('cross-node-broadcast', { ...flags, shard: '3/3', engine: 'k6' }).shard!.planId);
    expect(k1.shard!.planId).not.toBe(p1.shard!.planId);
  });

  it('refuses what cannot be sharded, in the user\'s terms', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['cross-node-broadcast', { shard: '4/3' }, /--shard 4\/3: i must be from 1 to 3/],
      ['cross-node-broadcast', { shard: 'two' }, /--shard two: expected i\/N/],
      ['node-kill', { shard: '1/2' }, /--shard: node-kill cannot be sharded/],
      ['cross-node-broadcast', { shard: '1/50' }, /40 rooms cannot be split 50 ways/],
      ['cross-node-broadcast', { startAt: '2030-01-01T00:00:00Z' }, /--start-at: only applies with --shard/],
      ['cross-node-broadcast', { shard: '1/2', startAt: 'tomorrow' }, /--start-at tomorrow: expected an ISO time/],
    ];
    for (const [scenario, flags, msg] of cases) {
      const e = error(() => buildPlan(scenario, flags));
      expect(e.code).toBe('WSB_INVALID_OPTION');
      expect(e.message).toMatch(msg);
    }
  });
});

describe('buildPlan: --cluster', () => {
  it('refuses a cluster that does not exist, and --cluster with --url', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-no-cluster-'));
    const e = error(() => buildPlan('cross-node-broadcast', { cluster: join(dir, 'nope') }));
    expect(e.code).toBe('WSB_INVALID_OPTION');
    expect(e.message).toContain('--cluster');
    const both = error(() => buildPlan('cross-node-broadcast', { cluster: 'x', url: 'http://127.0.0.1:1' }));
    expect(both.message).toContain('--cluster: names the cluster already');
  });
});

describe('buildClusterSpec (wsbench cluster up)', () => {
  it('defaults to 3 socket.io nodes with the seed limits, flags override', () => {
    const s = buildClusterSpec({}, 'id-1');
    expect(s).toMatchObject({ id: 'id-1', driver: 'local', topology: { server: 'socketio', adapter: 'redis', nodes: 3, serverOptions: { rateLimit: 100, roomCapacity: 1000 } } });
    const w = buildClusterSpec({ server: 'ws', nodes: '2', serverRateLimit: '730' }, 'id-2');
    expect(w.topology).toMatchObject({ server: 'ws', nodes: 2, serverOptions: { rateLimit: 730 } });
    expect(w.topology.adapter).toBeUndefined();
  });
  it('names every bad flag at once', () => {
    const e = error(() => buildClusterSpec({ nodes: '0', server: 'ws', adapter: 'redis-streams', nodeImage: 'x' }));
    expect(e.code).toBe('WSB_INVALID_OPTION');
    expect(e.message).toMatch(/--nodes/);
    expect(e.message).toMatch(/--adapter: only applies with --server socketio/);
    expect(e.message).toMatch(/--node-image: only applies with --driver docker/);
  });
  it("takes the user's server as run does: the config's server object, --server-command / --server-image over it, cwd against the file's folder", () => {
    const file = { server: { command: 'node server.js', env: { JWT_SECRET: 's' }, ready: { http: '/health' } }, scenario: 'x', options: { rate: 1 } };
    const s = buildClusterSpec({ nodes: '2' }, 'id-3', { file, dir: '/srv/app' });
    expect(s.topology.server).toBe('socketio');
    expect(s.topology.adapter).toBeUndefined();
    expect(s.topology.userServer).toMatchObject({ command: 'node server.js', cwd: '/srv/app', env: { JWT_SECRET: 's' }, ready: { kind: 'http', path: '/health' } });
    const flag = buildClusterSpec({ serverCommand: 'node other.js --port {port}' }, 'id-4', { file, dir: '/srv/app' });
    expect(flag.topology.userServer).toMatchObject({ command: 'node other.js --port {port}', env: { JWT_SECRET: 's' } });
    const img = buildClusterSpec({ driver: 'docker', serverImage: 'my-chat:1.2' }, 'id-5');
    expect(img.topology.userServer).toMatchObject({ image: 'my-chat:1.2', ready: { kind: 'tcp' } });
  });
  it("refuses what run refuses for a user's server: no command for the local driver, a reference-only key, --server beside --server-command", () => {
    const e = error(() => buildClusterSpec({ serverImage: 'my-chat:1.2', serverRateLimit: '500' }));
    expect(e.code).toBe('WSB_INVALID_OPTION');
    expect(e.message).toContain("server: the local driver runs your server's command, and this server has none");
    expect(e.message).toContain('--server-rate-limit: configures wsbench');
    expect(error(() => buildClusterSpec({ server: 'ws', serverCommand: 'node s.js' })).message).toContain('--server ws and --server-command: choose a reference server or your own');
    expect(error(() => buildClusterSpec({}, 'id', { file: { server: { command: 'x', ready: { http: 'health' } } }, dir: '/' })).message).toContain('server.ready.http: must be a path starting with /');
  });
});
