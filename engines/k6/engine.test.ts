/**
 * The k6 runner's process handling, against a STUB k6 executable (a small Node script that
 * answers `version` like k6 v0.48.0, records the command line it got, prints the script's
 * `WSB_T0=` line, writes a summary and exits with the code it is told). It checks wsbench's side
 * only — arguments, environment, exit-code mapping, reading the summary, abort — and is no
 * substitute for running a real k6 (test/integration/k6-engine.test.ts does that when k6 exists).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../cluster/types.js';
import { SEED_TARGETS } from '../../model/targets.js';
import { reconcileK6Thresholds } from './summary.js';
import { evaluateTargets } from '../../model/evaluate.js';
import crossNodeBroadcast from '../../scenarios/cross-node-broadcast.js';
import { locateK6 } from './binary.js';
import { runK6, readK6Summary, writeTokens, type K6Prepared, type K6RunContext } from './engine.js';
import { K6_ADAPTERS, type K6Adapter } from './scenarios.js';

const STUB = `#!${process.execPath}
// STUB k6 for wsbench's tests — not k6.
const fs = require('node:fs');
const args = process.argv.slice(2);
if (args[0] === 'version') { console.log('k6 v0.48.0 (go1.19.8, linux/amd64)'); process.exit(0); }
const vars = {};
for (let i = 0; i < args.length; i++) if (args[i] === '-e') { const [k, ...v] = args[i + 1].split('='); vars[k] = v.join('='); }
const exportPath = args[args.indexOf('--summary-export') + 1];
fs.writeFileSync(process.env.STUB_RECORD, JSON.stringify({ args, vars, noUsageReport: process.env.K6_NO_USAGE_REPORT }));
const finish = (code) => {
  if (process.env.STUB_SUMMARY) {
    fs.writeFileSync(vars.WSB_SUMMARY_JSON, fs.readFileSync(process.env.STUB_SUMMARY));
    fs.writeFileSync(exportPath, '{"metrics":{}}');
  }
  if (code === 107) console.error('time="2026-01-01T00:00:01Z" level=error msg="TypeError: Cannot read property \\'x\\' of undefined at default (file:///s.js:3:4(5))"');
  process.exit(code);
};
// The handler before the first line: the harness may abort (SIGINT) as soon as it reads WSB_T0.
process.on('SIGINT', () => finish(105));
console.log('running (0m01.0s), 7/7 VUs, 0 complete and 0 interrupted iterations');
console.error('time="2026-01-01T00:00:00Z" level=info msg="WSB_T0=' + Date.now() + '" source=console');
const exit = () => finish(Number(process.env.STUB_EXIT || 0));
// STUB_WAIT_FILE: exit only once the harness's action has created it (keeps the order deterministic).
if (process.env.STUB_HANG) setInterval(() => {}, 1000);
else if (process.env.STUB_WAIT_FILE) { const t = setInterval(() => { if (fs.existsSync(process.env.STUB_WAIT_FILE)) { clearInterval(t); exit(); } }, 10); }
else setTimeout(exit, 50);
`;

/** handleSummary data shaped as the real fixture (experimental-pass.handle-summary.json), with the script's metric names. */
function summaryJson(crossed: boolean): string {
  const trend = (count: number, p99: number, thresholds?: Record<string, { ok: boolean }>) => ({
    type: 'trend',
    contains: 'time',
    values: { avg: 2, min: 0, med: 2, max: 30, 'p(90)': 4, 'p(95)': 5, 'p(99)': p99, 'p(99.9)': 20, count },
    ...(thresholds ? { thresholds } : {}),
  });
  const counter = (count: number) => ({ type: 'counter', contains: 'default', values: { count, rate: count / 10 } });
  return JSON.stringify({
    root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [] },
    options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'count'], summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 12000 },
    metrics: {
      broadcast_latency_ms: trend(900, 9, { 'p(99)<=50': { ok: !crossed } }),
      'broadcast_latency_ms{path:same}': trend(300, 8, { 'max>=0': { ok: true } }),
      'broadcast_latency_ms{path:cross}': trend(600, 9, { 'p(99)<=50': { ok: true } }),
      connect_time_ms: trend(60, 12),
      connections: counter(60),
      'connections_per_node{node:node-1}': counter(30),
      'connections_per_node{node:node-2}': counter(30),
      deliveries_expected: counter(1000),
      deliveries_received: counter(1000),
      'deliveries_received{path:same}': counter(400),
      'deliveries_received{path:cross}': counter(600),
      'deliveries_expected{path:same}': counter(400),
      'deliveries_expected{path:cross}': counter(600),
      deliveries_duplicated: counter(0),
      deliveries_reordered: counter(0),
    },
  });
}

const dir = mkdtempSync(join(tmpdir(), 'wsb-k6-stub-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stubPath = join(dir, 'k6-stub');
writeFileSync(stubPath, STUB);
chmodSync(stubPath, 0o755);
const passSummary = join(dir, 'pass.json');
writeFileSync(passSummary, summaryJson(false));
const crossedSummary = join(dir, 'crossed.json');
writeFileSync(crossedSummary, summaryJson(true));

const targets = ['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order'].map((id) => SEED_TARGETS[id]);
const nodes = [{ id: 'node-1' }, { id: 'node-2' }] as ClusterNode[];

async function setup(name: string, env: Record<string, string>, opts: { actions?: boolean; outrun?: boolean; chaosApplied?: boolean; signal?: AbortSignal } = {}) {
  const outDir = join(dir, name);
  const k6 = await locateK6(stubPath, {});
  const base = K6_ADAPTERS['cross-node-broadcast'];
  const acted: string[] = [];
  const waitFile = join(dir, `${name}.acted`);
  const adapter: K6Adapter = opts.actions
    ? {
        ...base,
        chaos: async (c) => {
          await c.at(0);
          await c.act('kill-node', 'node-2', async () => {
            acted.push('node-2');
            writeFileSync(waitFile, 'done');
          });
        },
      }
    : opts.outrun
      ? {
          ...base,
          // A chaos that is still waiting when k6 exits: k6 outran it.
          chaos: async (c) => {
            await c.at(0);
            await c.sleep(600_000);
          },
        }
      : base;
  if (opts.actions) env = { ...env, STUB_WAIT_FILE: waitFile };
  const options = crossNodeBroadcast.options.parse({ connections: 60, rooms: 2 }) as Record<string, unknown>;
  const prep: K6Prepared = { k6, adapter, script: { path: join(dir, 'script.js'), imports: [] }, plan: adapter.plan(options, { nodes: 2 }), notes: ['prepared'] };
  const events: Array<[string, string | undefined, string | undefined]> = [];
  let stderr = '';
  const spawned: number[] = [];
  const record = join(dir, `${name}.record.json`);
  const ctx: K6RunContext = {
    cluster: {
      url: 'http://127.0.0.1:9',
      nodes,
      lb: {} as K6RunContext['cluster']['lb'],
      redis: {} as K6RunContext['cluster']['redis'],
      // The nodes hold 30 connections each whenever the harness looks (connections_peak: their sum).
      metrics: async () => nodes.map((n) => ({ nodeId: n.id, up: true, connections: 30, rssBytes: null, heapUsedBytes: null, eventLoopLagMs: null, publishTotal: null })),
    },
    protocol: 'socketio',
    jwtSecret: 'secret',
    targets: opts.outrun || opts.chaosApplied ? [...targets, SEED_TARGETS['chaos-applied']] : targets,
    options,
    outDir,
    signal: opts.signal ?? new AbortController().signal,
    stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
    event: (type, detail, outcome) => events.push([type, detail, outcome]),
    onSpawn: (pid) => spawned.push(pid),
    env: { PATH: process.env.PATH, STUB_RECORD: record, ...env },
    killGraceMs: 5000,
  };
  return { prep, ctx, events, acted, spawned, record, outDir, stderr: () => stderr };
}

describe('runK6 process handling (stub k6 executable, not a real k6)', () => {
  it('exit 0: passes args and -e variables, streams output, runs the chaos on the script’s clock, reads the summary', async () => {
    const s = await setup('pass', { STUB_SUMMARY: passSummary }, { actions: true, chaosApplied: true });
    const out = await runK6(s.prep, s.ctx);
    expect(out.exitCode).toBe(0);
    const rec = JSON.parse(readFileSync(s.record, 'utf8')) as { args: string[]; vars: Record<string, string>; noUsageReport: string };
    expect(rec.args[0]).toBe('run');
    expect(rec.args.at(-1)).toBe(join(dir, 'script.js'));
    expect(rec.vars.WSB_URL).toBe('ws://127.0.0.1:9');
    expect(JSON.parse(rec.vars.WSB_THRESHOLDS)).toMatchObject({ broadcast_latency_ms: ['p(99)<=50'], 'connections_per_node{node:node-2}': ['count>=0'] });
    expect(rec.noUsageReport).toBe('true');
    const tokens = JSON.parse(readFileSync(rec.vars.WSB_TOKENS_FILE, 'utf8')) as string[];
    expect(tokens).toHaveLength(60);
    expect(s.stderr()).toContain('k6 │ running (0m01.0s), 7/7 VUs');
    expect(readFileSync(join(s.outDir, 'logs', 'k6.stdout.log'), 'utf8')).toContain('running (0m01.0s)');
    expect(s.spawned).toHaveLength(1);
    expect(s.acted).toEqual(['node-2']);
    expect(s.events.map((e) => e[0])).toEqual(['k6', 'phase', 'kill-node', 'k6']);
    // act() runs a step nothing observes: unknown, never an assumed ok — chaos-applied is then unknown and fails.
    expect(s.events[2]).toEqual(['kill-node', 'node-2: ran, its effect not observed', 'unknown']);
    expect(out.result.counters).toMatchObject({ chaos_actions_failed: 0, chaos_actions_unobserved: 1 });
    expect(out.result.generator.notes).toContain('CHAOS NOT OBSERVED: kill-node node-2: ran, its effect not observed — apply it through chaos(), which observes its effect');
    expect(s.events.at(-1)).toEqual(['k6', 'k6 exited 0 (OK)', 'ok']);
    expect(out.result.metrics.broadcast_latency_ms).toMatchObject({ count: 900, p99: 9 });
    expect(out.result.accounting).toMatchObject({ expected: 1000, received: 1000, lost: 0 });
    expect(out.result.connectionsPerNode).toEqual({ 'node-1': 30, 'node-2': 30 });
    expect(out.result.counters.connections_peak).toBe(60);
    expect(out.result.generator.notes[0]).toBe('prepared');
    expect(out.result.generator.notes).toContain(`k6 engine: summary read from ${join(s.outDir, 'k6', 'handle-summary.json')} (handle-summary)`);
  });

  it("act()'s unobserved step is judged only where chaos-applied is: without it, no CHAOS NOT OBSERVED (the event still says unknown)", async () => {
    const s = await setup('act-unjudged', { STUB_SUMMARY: passSummary }, { actions: true });
    const out = await runK6(s.prep, s.ctx);
    expect(out.exitCode).toBe(0);
    expect(s.acted).toEqual(['node-2']);
    expect(s.events.find((e) => e[0] === 'kill-node')).toEqual(['kill-node', 'node-2: ran, its effect not observed', 'unknown']);
    expect(out.result.counters.chaos_actions_unobserved ?? 0).toBe(0);
    expect(out.result.generator.notes.filter((n) => n.startsWith('CHAOS NOT OBSERVED'))).toEqual([]);
  });

  it('a chaos k6 outran (k6 exited first) counts as unobserved: chaos-applied unknown, CHAOS NOT OBSERVED with the hint', async () => {
    const s = await setup('outrun', { STUB_SUMMARY: passSummary }, { outrun: true });
    const out = await runK6(s.prep, s.ctx);
    expect(out.exitCode).toBe(0);
    expect(s.events.find((e) => e[0] === 'chaos')).toEqual(['chaos', 'stopped: k6 ended first', 'unknown']);
    expect(out.result.counters).toMatchObject({ chaos_actions_failed: 0, chaos_actions_unobserved: 1 });
    expect(out.result.generator.notes).toContain('CHAOS NOT OBSERVED: chaos k6: k6 ended before the chaos did; the rest of it was never applied — give k6 time to outlive the chaos (a longer --duration)');
    const judged = evaluateTargets({ metrics: out.result.metrics, counters: out.result.counters, accounting: out.result.accounting } as Parameters<typeof evaluateTargets>[0], [SEED_TARGETS['chaos-applied']]);
    expect(judged[0]).toMatchObject({ status: 'unknown', actual: null });
  });

  it('exit 99 (thresholds crossed): resolves, and the crossed threshold fails its target (wsbench exit 1)', async () => {
    const s = await setup('crossed', { STUB_SUMMARY: crossedSummary, STUB_EXIT: '99' });
    const out = await runK6(s.prep, s.ctx);
    expect(out.exitCode).toBe(99);
    const evaluated = evaluateTargets({ metrics: out.result.metrics, counters: out.result.counters, accounting: out.result.accounting } as Parameters<typeof evaluateTargets>[0], targets);
    expect(evaluated.find((t) => t.id === 'latency-p99')?.status).toBe('pass');
    const r = reconcileK6Thresholds(evaluated, out.thresholdSpecs, out.summary, out.exitCode);
    expect(r.targets.find((t) => t.id === 'latency-p99')?.status).toBe('fail');
  });

  it('any other exit (107, script exception): WSB_K6_FAILED naming the exit and k6’s last lines', async () => {
    const s = await setup('exception', { STUB_SUMMARY: passSummary, STUB_EXIT: '107' });
    const err = await runK6(s.prep, s.ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WSB_K6_FAILED', exitCode: 2 });
    expect((err as Error).message).toMatch(/^k6 exited 107 \(script exception\); its last lines:/);
    expect((err as Error).message).toContain('TypeError');
    expect(s.events.at(-1)).toEqual(['k6', 'k6 exited 107 (script exception)', 'fail']);
  });

  it('exit 0 without a summary: WSB_K6_FAILED', async () => {
    const s = await setup('nosummary', {});
    await expect(runK6(s.prep, s.ctx)).rejects.toMatchObject({ code: 'WSB_K6_FAILED', message: expect.stringContaining('wrote no summary') });
  });

  it('an abort sends k6 SIGINT and ends in WSB_INTERRUPTED', async () => {
    const ac = new AbortController();
    const s = await setup('abort', { STUB_SUMMARY: passSummary, STUB_HANG: '1' }, { signal: ac.signal });
    const running = runK6(s.prep, s.ctx);
    while (!s.events.some((e) => e[0] === 'phase')) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await expect(running).rejects.toMatchObject({ code: 'WSB_INTERRUPTED', message: 'interrupted (k6 exited 105 (external abort (a signal)))' });
  });
});

describe('engine helpers', () => {
  it('writes one token per connection, readable only by the owner', () => {
    const f = join(dir, 'tokens.json');
    writeTokens(f, 's', 3);
    const t = JSON.parse(readFileSync(f, 'utf8')) as string[];
    expect(t).toHaveLength(3);
    expect(new Set(t).size).toBe(3);
    expect(JSON.parse(Buffer.from(t[2].split('.')[1], 'base64url').toString())).toMatchObject({ sub: 'k6-2', aud: 'wsbench', rooms: ['*'] });
  });

  it('prefers the handleSummary file and falls back to --summary-export (the real fixture)', () => {
    const a = join(dir, 'none-a.json');
    const fixture = join(import.meta.dirname, '..', '..', 'fixtures', 'k6', 'experimental-fail.summary-export.json');
    expect(readK6Summary({ handleSummaryPath: a, summaryExportPath: fixture })).toMatchObject({ source: fixture, summary: { format: 'summary-export' } });
    expect(readK6Summary({ handleSummaryPath: a, summaryExportPath: a })).toEqual({ summary: null, source: null });
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"metrics": ');
    expect(readK6Summary({ handleSummaryPath: broken, summaryExportPath: fixture })).toMatchObject({ source: fixture, summary: { format: 'summary-export' } });
    expect(readK6Summary({ handleSummaryPath: broken, summaryExportPath: a })).toMatchObject({ summary: null, source: broken, problem: expect.stringContaining('JSON') });
  });
});
