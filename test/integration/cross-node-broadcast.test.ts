import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExactDelivery, expectSpreadOverThreeNodes } from './support/assert-run.js';
import { buildPlan } from '../../cli/plan.js';
import { run, type RunOutcome } from '../../runner/run.js';
import { eventsInto } from './support/run-events.js';
import { readReport } from '../../reports/write-report.js';
import { isAlive, pidsMatching } from './support/processes.js';
import { decodeHistogram, summarizeUs } from '../../model/histogram.js';

/** Every field path docs/report-format.md documents for report.json (its RunReport table). */
function documentedPaths(): string[] {
  const readme = readFileSync(new URL('../../docs/report-format.md', import.meta.url), 'utf8');
  const start = readme.indexOf('## RunReport fields');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const paths: string[] = [];
  for (const m of section.matchAll(/^\| `([^`]+)` \|/gm)) paths.push(m[1]);
  return paths;
}

function has(obj: unknown, path: string): boolean {
  // `a.b[]` → a.b is an array (checked on its first element if any); `<name>` / `*` → every key.
  const parts = path.replace(/\[\]/g, '.[]').split('.').filter(Boolean);
  const walk = (v: unknown, i: number): boolean => {
    if (i === parts.length) return v !== undefined;
    const p = parts[i];
    if (v === null || typeof v !== 'object') return false;
    if (p === '[]') return Array.isArray(v) && (v.length === 0 || walk(v[0], i + 1));
    if (p.startsWith('<') || p === '*') return Object.values(v).every((x) => walk(x, i + 1));
    if (p.endsWith('?')) return !(p.slice(0, -1) in v) || walk((v as Record<string, unknown>)[p.slice(0, -1)], i + 1);
    return p in v && walk((v as Record<string, unknown>)[p], i + 1);
  };
  return walk(obj, 0);
}

describe('cross-node-broadcast on the local driver (real redis-server, nginx, 3 nodes)', () => {
  let outcome: RunOutcome;
  let pids: () => number[] = () => [];
  let seenPids: number[] = [];
  let stderr = '';
  let out = '';

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'wsb-it-'));
    const plan = buildPlan('cross-node-broadcast', {
      connections: '300',
      rooms: '10',
      rate: '5',
      duration: '6',
      warmup: '1',
      drain: '2',
      out,
    });
    const err = new PassThrough();
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const controller = new AbortController();
    const poll = setInterval(() => (seenPids = [...new Set([...seenPids, ...pids()])]), 200);
    outcome = await run(plan, { onEvent: eventsInto(err), signal: controller.signal, onPids: (p) => (pids = p) });
    clearInterval(poll);
  }, 120_000);

  afterAll(async () => {
    for (const pid of seenPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('ran without a harness error', () => {
    expect(outcome.report.error, stderr).toBeUndefined();
    expect([0, 1]).toContain(outcome.exitCode);
    expect(outcome.exitCode).toBe(outcome.report.verdict === 'pass' ? 0 : 1);
  });

  it('spread connections over all 3 nodes, and the per-node counts sum to the total', () => {
    expectSpreadOverThreeNodes(outcome.report, 300);
    expect(outcome.report.counters.connections).toBe(300);
  });

  it('delivered every message across nodes exactly once and in order', () => {
    // 10 rooms × (300 − 10 publishers) / 10 = 29 members per room.
    expectExactDelivery(outcome.report, 29);
  });

  it('timed every measured delivery in merged HDR histograms, split same/cross node', () => {
    const m = outcome.report.metrics;
    expect(m.broadcast_latency_ms.count).toBe(m.broadcast_latency_same_node_ms.count + m.broadcast_latency_cross_node_ms.count);
    expect(m.broadcast_latency_cross_node_ms.count).toBeGreaterThan(m.broadcast_latency_same_node_ms.count);
    // The percentiles are the merged histogram's: decoding the report's own HDR gives the same count and p99.
    const all = decodeHistogram(m.broadcast_latency_ms.hdr!);
    expect(all.totalCount).toBe(m.broadcast_latency_ms.count);
    expect(summarizeUs(all, 'ms').p99).toBe(m.broadcast_latency_ms.p99);
    expect(m.connect_time_ms.count).toBe(300);
    expect(outcome.report.targets.map((t) => t.id)).toEqual(['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'no-leak']);
  });

  it('expected every scheduled message, and every one left its publisher (none never sent)', () => {
    const r = outcome.report;
    expect(r.counters.messages_scheduled).toBeGreaterThan(0);
    expect(r.counters.messages_published).toBe(r.counters.messages_scheduled);
    expect(r.counters.messages_never_sent).toBe(0);
    expect(r.accounting.losses?.neverSent).toBe(0);
    expect(r.counters.messages_published_per_sec).toBeGreaterThan(0);
    // Deliveries per second count first arrivals to 29 members per message: more than messages.
    expect(r.counters.deliveries_per_sec).toBeGreaterThan(r.counters.messages_published_per_sec);
    expect(r.targets.find((t) => t.id === 'no-leak')).toMatchObject({ status: 'pass', actual: 0 });
  });

  it('measured the connection peak from the workers’ reports', () => {
    expect(outcome.report.counters.connections_peak).toBe(300);
  });

  it('every worker, publisher or not, reports a non-zero CPU per delivery over its receive window', () => {
    const workers = outcome.report.generator.workers;
    expect(workers.length).toBeGreaterThanOrEqual(2);
    for (const w of workers) {
      expect(w.cpuPerDeliveryUs, `worker ${w.worker}`).toBeGreaterThan(0);
      expect(w.burstServiceMs, `worker ${w.worker}`).toBeGreaterThan(0);
    }
  });

  it("states every worker's RSS after GC at the run's end and its memory per connection (unknown, never 0, where RSS did not grow)", () => {
    for (const w of outcome.report.generator.workers) {
      expect(w.rssAfterGcBytes, `worker ${w.worker}`).toBeGreaterThan(10 * 1048576);
      const m = w.memoryPerConnectionBytes;
      expect(m === null || (typeof m === 'number' && m > 0), `worker ${w.worker}: ${m}`).toBe(true);
    }
  });

  it('attributes every expected delivery and every timed latency to a receiving and a publishing node', () => {
    const r = outcome.report;
    const p = r.perNode!;
    expect(p.receiving.map((x) => x.node)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(p.publishing.map((x) => x.node)).toEqual(['node-1', 'node-2', 'node-3']);
    for (const side of [p.receiving, p.publishing]) {
      expect(side.reduce((a, x) => a + x.expected, 0)).toBe(r.accounting.expected);
      expect(side.reduce((a, x) => a + x.received, 0)).toBe(r.accounting.received);
      expect(side.reduce((a, x) => a + x.lost, 0)).toBe(0);
      expect(side.reduce((a, x) => a + x.latency_ms.count, 0)).toBe(r.metrics.broadcast_latency_ms.count);
    }
  });

  it('wrote a report.json with every field docs/report-format.md documents', async () => {
    const report = await readReport(outcome.reportPath);
    const paths = documentedPaths();
    expect(paths.length).toBeGreaterThan(40);
    const missing = paths.filter((p) => !has(report, p));
    expect(missing).toEqual([]);
  });

  it('left no process of the run behind', async () => {
    expect(seenPids.length).toBeGreaterThanOrEqual(6); // redis, 3 nodes, nginx, ≥1 worker
    expect(seenPids.filter(isAlive)).toEqual([]);
    // redis-server --dir and nginx -p name the run folder on their command lines.
    expect(await pidsMatching(out)).toEqual([]);
  });
});
