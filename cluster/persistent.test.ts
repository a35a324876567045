import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { processIdentity } from './process-identity.js';
import { listClusters, newClusterId, resolveCluster, type ClusterState } from './persistent.js';
import { SERVER_DEFAULTS } from './types.js';

/** A results folder with cluster folders: `live` ones owned by this process, the others by a pid that cannot exist. */
function results(clusters: Array<{ id: string; live: boolean; state?: ClusterState['state'] }>): string {
  const root = mkdtempSync(join(tmpdir(), 'wsb-persistent-'));
  for (const c of clusters) {
    const dir = join(root, `cluster-${c.id}`);
    mkdirSync(dir);
    const state: ClusterState = {
      id: c.id,
      state: c.state ?? 'up',
      driver: 'local',
      server: 'socketio',
      nodes: [{ id: 'node-1', url: 'http://127.0.0.1:1' }],
      url: 'http://127.0.0.1:2',
      redis: 'redis://127.0.0.1:3',
      serverOptions: SERVER_DEFAULTS,
      jwtSecretFile: join(dir, 'jwt-secret'),
      keeper: c.live ? { pid: process.pid, startTime: processIdentity(process.pid)?.startTime } : { pid: 2 ** 22 + 1, startTime: 1 },
      startedAt: new Date().toISOString(),
      versions: {},
    };
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state));
  }
  return root;
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as WsbenchError).code;
  }
  return 'no error';
};

describe('cluster state on disk', () => {
  it('lists cluster folders with whether their keeper lives', () => {
    const root = results([
      { id: 'a', live: true },
      { id: 'b', live: false },
      { id: 'c', live: true, state: 'down' },
    ]);
    const all = listClusters(root);
    expect(all.map((c) => [c.state.id, c.live]).sort()).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
  });

  it('resolves a cluster by id or folder, or the only one up', () => {
    const root = results([
      { id: 'a', live: true },
      { id: 'b', live: false },
    ]);
    expect(resolveCluster('b', root).state.id).toBe('b');
    expect(resolveCluster(join(root, 'cluster-a'), root).live).toBe(true);
    expect(resolveCluster(undefined, root).state.id).toBe('a');
  });

  it('names the problem when no cluster or several match', () => {
    expect(codeOf(() => resolveCluster('zzz', results([{ id: 'a', live: true }])))).toBe('WSB_CLUSTER_NOT_FOUND');
    expect(codeOf(() => resolveCluster(undefined, results([{ id: 'a', live: false }])))).toBe('WSB_CLUSTER_NOT_FOUND');
    expect(codeOf(() => resolveCluster(undefined, results([{ id: 'a', live: true }, { id: 'b', live: true }])))).toBe('WSB_CLUSTER_NOT_FOUND');
    expect(codeOf(() => resolveCluster(undefined, join(tmpdir(), 'wsb-no-such-results-folder')))).toBe('WSB_CLUSTER_NOT_FOUND');
  });

  it('makes ids of time and 4 hex digits', () => {
    expect(newClusterId(new Date('2026-12-07T01:02:03Z'))).toMatch(/^20261207-010203-[0-9a-f]{4}$/);
  });
});
