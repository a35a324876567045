/**
 * What a rendered k6-operator TestRun carries for `wsbench merge --k6-operator`: the ConfigMap's
 * `wsbench-merge.json` (name, runners, plan id as `wsbench run --engine k6 --shard i/N` makes it,
 * the resolved config), and with `--start-at` every runner's t0 baked into WSB_PLAN.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../cli/plan.js';
import { buildRender } from '../cli/render-plan.js';
import { k6OperatorPartials } from '../cli/merge-k6-operator.js';
import { broadcastTimes, type BroadcastPlan } from '../engines/k6/scripts/lib/plan.js';
import { toYaml } from './k8s.js';
import { MERGE_KEY, type K6OperatorMergeInfo } from './k6-operator.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const flags = { k6Version: '0.48.0', parallelism: '3', connections: '66', rooms: '6', name: 'wsb-merge-info' };
const dataOf = async (f: Record<string, string>) => (await buildRender('k6-operator', 'cross-node-broadcast', f, {}, NOW)).objects.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>;

describe('render k6-operator: what merge --k6-operator reads', () => {
  it('--start-at: the agreed start in wsbench-merge.json and as every runner\'s t0; the plan id is the k6 shards\'', async () => {
    const data = await dataOf({ ...flags, startAt: '2030-01-01T00:10:00Z' });
    const info = JSON.parse(data[MERGE_KEY]) as K6OperatorMergeInfo;
    expect(info).toMatchObject({ kind: 'k6-operator', name: 'wsb-merge-info', scenario: 'cross-node-broadcast', parallelism: 3, startAt: '2030-01-01T00:10:00.000Z' });
    const plan = JSON.parse(data.WSB_PLAN) as BroadcastPlan;
    expect(plan.segments).toBe(3);
    expect(plan.t0EpochMs! + broadcastTimes(plan).publishAt).toBe(Date.parse('2030-01-01T00:10:00Z'));
    // The same plan id every `wsbench run --engine k6 --shard i/3 --start-at` of these options gives.
    const shard2 = buildPlan('cross-node-broadcast', { engine: 'k6', shard: '2/3', startAt: info.startAt }, {}, info.config);
    expect(shard2.shard!.planId).toBe(info.planId);
    expect(buildPlan('cross-node-broadcast', { engine: 'k6', shard: '2/3', startAt: info.startAt, rate: '9' }, {}, info.config).shard!.planId).not.toBe(info.planId);
  });

  it('without a start: no t0 in the plan (each runner counts from its own setup()); a plan id without one', async () => {
    const data = await dataOf(flags);
    const info = JSON.parse(data[MERGE_KEY]) as K6OperatorMergeInfo;
    expect(info.startAt).toBeUndefined();
    expect((JSON.parse(data.WSB_PLAN) as BroadcastPlan).t0EpochMs).toBeUndefined();
    expect(buildPlan('cross-node-broadcast', { engine: 'k6', shard: '1/3' }, {}, info.config).shard!.planId).toBe(info.planId);
  });

  it('merge --k6-operator: a manifest without the merge info, and missing runner files, are refused with coded errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-merge-info-'));
    try {
      const r = await buildRender('k6-operator', 'cross-node-broadcast', flags, {}, NOW);
      const manifest = join(dir, 'testrun.yaml');
      writeFileSync(manifest, toYaml(r));
      await expect(k6OperatorPartials(manifest, [dir])).rejects.toMatchObject({ code: 'WSB_MERGE_MISSING_SHARD', message: expect.stringContaining('runner 1 (wsb-merge-info-1.summary.json), runner 2') });
      const capacity = join(dir, 'capacity.yaml');
      writeFileSync(capacity, toYaml(await buildRender('k6-operator', 'connection-capacity', { k6Version: '0.48.0' }, {}, NOW)));
      await expect(k6OperatorPartials(capacity, [dir])).rejects.toMatchObject({ code: 'WSB_MERGE_INVALID' });
      await expect(k6OperatorPartials(join(dir, 'nope.yaml'), [dir])).rejects.toMatchObject({ code: 'WSB_MERGE_INVALID' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
