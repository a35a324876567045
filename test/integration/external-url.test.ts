/**
 * `wsbench run … --url`: scenarios against a cluster wsbench did not start. The test starts one
 * with the local driver's building blocks (redis-server, two reference nodes, nginx; the seed's
 * limits), runs the real bin against it, and checks the report has the usual shape, the nodes'
 * /metrics were scraped through `--node-urls`, and wsbench left the cluster running as it found it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDriver } from '../../cluster/local-driver.js';
import { httpGet } from '../../cluster/wait.js';
import { SERVER_DEFAULTS, type StartedCluster } from '../../cluster/types.js';
import type { RunReport } from '../../model/run-report.js';
import { validateReport } from '../../model/schema.js';
import { wsbench } from './support/cli.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

const SECRET = 'external-cluster-test-secret';
let cluster: StartedCluster;

beforeAll(async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'wsb-external-cluster-'));
  cluster = await new LocalDriver().start(
    {
      server: 'socketio',
      nodes: 2,
      lb: 'nginx',
      lbPolicy: 'ip_hash',
      lbPort: 0,
      expectedConnections: 200,
      serverOptions: { ...SERVER_DEFAULTS },
      jwtSecret: SECRET,
      readyTimeoutMs: 30_000,
    },
    { runId: 'external-test', runDir },
  );
}, 60_000);

afterAll(async () => {
  await cluster?.down();
});

async function runAgainst(args: string[]): Promise<{ code: number | null; stderr: string; report: RunReport }> {
  const out = mkdtempSync(join(tmpdir(), 'wsb-external-'));
  const tag = newTag();
  const r = await wsbench([...args, '--url', cluster.url, '--node-urls', cluster.nodes.map((n) => n.url).join(','), '--out', out], {
    env: { ...process.env, WSB_TEST_TAG: tag, WSB_JWT_SECRET: SECRET },
  });
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  expect(validateReport(report)).toEqual([]);
  // Only what wsbench itself started (its load workers) is gone; the cluster is not its to stop.
  expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  expect((await httpGet(`${cluster.url}/health`)).status).toBe(200);
  return { ...r, report };
}

describe('--url: a cluster wsbench did not start', () => {
  it('cross-node-broadcast: same report shape, driver external, nodes scraped through --node-urls, nothing stopped', async () => {
    // 1 msg/s per publisher stays under the cluster's seed rate limit (100/minute).
    const { code, stderr, report } = await runAgainst(['run', 'cross-node-broadcast', '--connections', '40', '--rooms', '4', '--rate', '1', '--duration', '2', '--warmup', '1', '--drain', '1']);
    expect(stderr).toContain(`using the running cluster at ${cluster.url} (not started by wsbench)`);
    expect(stderr).not.toContain('error WSB_');
    expect(code).toBe(report.verdict === 'pass' ? 0 : 1);
    expect(report.topology).toMatchObject({ driver: 'external', lb: 'external', lbPolicy: 'external', redis: 'external', nodes: 2, overrides: [] });
    expect(Object.keys(report.connectionsPerNode).sort()).toEqual(['node-1', 'node-2']);
    expect(report.accounting.expected).toBeGreaterThan(0);
    expect(report.accounting).toMatchObject({ lost: 0, duplicated: 0, reordered: 0 });
    expect(report.targets.map((t) => t.id)).toEqual(['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'no-leak']);
    const scraped = report.nodeMetrics!.flatMap((p) => p.nodes);
    expect(new Set(scraped.map((n) => n.nodeId))).toEqual(new Set(['node-1', 'node-2']));
    expect(scraped.every((n) => n.up)).toBe(true);
  });

  it('security-probes: every probe passes against the seed-configured cluster', async () => {
    const { code, report } = await runAgainst(['run', 'security-probes', '--duration', '1', '--warmup', '0', '--drain', '1']);
    expect(report.probes!.results.filter((x) => x.status !== 'pass')).toEqual([]);
    expect(report.probes!.nodes.map((n) => n.nodeId)).toEqual(['node-1', 'node-2']);
    expect(code).toBe(0);
  });
});
