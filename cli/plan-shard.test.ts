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
  });

  it('refuses what cannot be sharded, in the user\'s terms', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['cross-node-broadcast', { shard: '4/3' }, /--shard 4\/3: i must be from 1 to 3/],
      ['cross-node-broadcast', { shard: 'two' }, /--shard two: expected i\/N/],
      ['node-kill', { shard: '1/2' }, /--shard: node-kill cannot be sharded/],
      ['cross-node-broadcast', { shard: '1/2', engine: 'k6' }, /--shard: only the Node engine/],
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
});
