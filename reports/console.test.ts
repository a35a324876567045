import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { formatPercent, renderConsole, renderProgressLine, verdictLine } from './console.js';
import { finalizeReport } from '../model/evaluate.js';
import { pickTargets, withValue } from '../model/targets.js';
import type { RunReport } from '../model/run-report.js';

const sample = (): RunReport => JSON.parse(readFileSync(new URL('../fixtures/sample-report.json', import.meta.url), 'utf8'));
const CROSS_NODE_TARGETS = ['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order'];

function lossless(): RunReport {
  const r = sample();
  const fix = (a: RunReport['accounting']['sameNode']) => ({ ...a, received: a.expected, lost: 0, deliveryRatio: 1 });
  r.accounting = { ...fix(r.accounting), sameNode: fix(r.accounting.sameNode), crossNode: fix(r.accounting.crossNode) };
  return finalizeReport(r, pickTargets(CROSS_NODE_TARGETS));
}

describe('renderConsole', () => {
  it('renders the header, every section, each target id and the verdict', () => {
    const r = sample();
    const out = renderConsole(r);
    expect(out).toContain('scenario cross-node-broadcast');
    expect(out).toContain('server socketio');
    expect(out).toContain('3 nodes');
    expect(out).toContain('lb nginx (ip_hash)');
    expect(out).toContain('10,000 connections');
    expect(out).toContain(`run ${r.runId}`);
    for (const row of ['all', 'same-node', 'cross-node', 'connect time']) expect(out).toMatch(new RegExp(`│ ${row}\\s+│`));
    expect(out).toContain('13.48'); // p99 of all, 2 decimals
    for (const node of ['node-1', 'node-2', 'node-3']) expect(out).toContain(node);
    expect(out).toContain('49,999.7 deliveries/s');
    expect(out).toContain('30,000 messages published');
    for (const t of r.targets) expect(out).toContain(t.id);
    expect(out).toContain('(seed 004 · WebSocket Implementation for Real-Time Communication, ');
    expect(out).not.toContain('004_ef208ec7b515aee1.txt');
    expect(out).toContain('p99 <= 50 ms');
    expect(out).toContain('lost == 0');
    expect(out).toMatch(/FAIL\s+│ no-loss/);
    expect(out.split('\n').at(-1)).toBe('verdict: FAIL (1 of 5 targets missed: no-loss)');
  });

  it("names a k6-operator TestRun and the target in place of the merging machine", () => {
    const r = sample();
    expect(renderConsole(r)).toContain(`node ${r.environment.node} · `);
    r.topology = { ...r.topology, driver: 'external', redis: 'external', url: 'ws://wsbench-lb:8080', k6Operator: { testRun: 'wsb-run', runners: 3, runnerImage: 'grafana/k6:0.48.0' } };
    const out = renderConsole(r);
    expect(out).toContain('k6-operator TestRun wsb-run (3 runners, grafana/k6:0.48.0) · redis external · target ws://wsbench-lb:8080');
    expect(out).not.toContain(`node ${r.environment.node} · `);
  });

  it('does not round 99.999% to 100%', () => {
    const out = renderConsole(sample());
    expect(out).toContain('99.999%'); // cross-node: 20 of 2,000,000 lost
    expect(out).toMatch(/│ same-node .*│\s+100% │/); // exactly 1 is 100%
    expect(out).toMatch(/│ total\s+│ 3,000,000 │.*│\s+99\.999% │/);
    expect(out).toMatch(/│ cross-node\s+│ 2,000,000 │.*│\s+99\.999% │/);
  });

  it('prints GENERATOR-BOUND only when the generator was the bottleneck', () => {
    const r = sample();
    expect(renderConsole(r)).not.toContain('GENERATOR-BOUND');
    r.generator.bottleneck = true;
    expect(renderConsole(r)).toContain('GENERATOR-BOUND: results not trustworthy');
  });

  it('prints generator health and notes', () => {
    const out = renderConsole(sample());
    expect(out).toContain('generator: 4 workers');
    expect(out).toMatch(/│ #3\s+│\s+2,500 │\s+46\.1 │\s+70\.3 │\s+6\.00 │/);
    expect(out).toContain('note: 4 workers on 8 cpus');
    expect(out).not.toContain('memory / conn');
  });

  it("prints each worker's RSS after GC and memory per connection where measured (unknown where it did not grow)", () => {
    const r = sample();
    Object.assign(r.generator.workers[0], { rssAfterGcBytes: 150 * 1048576, memoryPerConnectionBytes: 4710 });
    Object.assign(r.generator.workers[1], { rssAfterGcBytes: 70 * 1048576, memoryPerConnectionBytes: null });
    const out = renderConsole(r);
    expect(out).toMatch(/│ RSS after GC │ memory \/ conn │/);
    expect(out).toMatch(/│ #0 .*│\s+150\.0 MiB │\s+4\.60 KiB │/);
    expect(out).toMatch(/│ #1 .*│\s+70\.0 MiB │\s+unknown │/);
    expect(out).toMatch(/│ #2 .*│\s+- │\s+- │/);
  });

  it('carries no colour codes by default, and some with color: true', () => {
    expect(renderConsole(sample())).not.toContain('\x1b[');
    expect(renderConsole(sample(), { color: true })).toContain('\x1b[');
  });

  it('renders only the latency rows present', () => {
    const r = sample();
    delete r.metrics.connect_time_ms;
    delete r.metrics.broadcast_latency_same_node_ms;
    const out = renderConsole(r);
    expect(out).not.toContain('connect time');
    expect(out).not.toMatch(/│ same-node\s+│\s+[\d,]+ │\s+[\d.]+ │\s+[\d.]+ │/); // (the accounting row stays)
    expect(out).toMatch(/│ cross-node\s+│/);
  });

  it('says PASS with the count of met targets', () => {
    const r = lossless();
    expect(r.verdict).toBe('pass');
    expect(renderConsole(r).split('\n').at(-1)).toBe('verdict: PASS (5/5 targets met)');
  });

  it('marks unknown targets and counts them as missed', () => {
    const r = sample();
    delete r.metrics.broadcast_latency_cross_node_ms;
    const fin = finalizeReport(r, pickTargets(CROSS_NODE_TARGETS));
    const out = renderConsole(fin);
    expect(out).toMatch(/UNKNOWN\s+│ cross-node-latency-p99/);
    expect(out).toContain('not measured');
    expect(out.split('\n').at(-1)).toBe('verdict: FAIL (2 of 5 targets missed: cross-node-latency-p99 (not measured), no-loss)');
  });

  it('shows an overridden threshold next to the seed value', () => {
    const r = finalizeReport(sample(), [withValue('latency-p99', 10)]);
    const out = renderConsole(r);
    expect(out).toContain('p99 <= 10 ms (seed: 50 ms)');
    expect(out.split('\n').at(-1)).toBe('verdict: FAIL (1 of 1 targets missed: latency-p99)');
  });

  it('prints the error code, message and hint', () => {
    const r = finalizeReport(
      { ...sample(), error: { code: 'WSB_NODE_NOT_READY', message: '2 of 3 nodes ready after 30000 ms', hint: 'raise --ready-timeout' } },
      pickTargets(CROSS_NODE_TARGETS),
    );
    const out = renderConsole(r);
    expect(out).toContain('verdict: ERROR');
    expect(out).toContain('WSB_NODE_NOT_READY');
    expect(out).toContain('2 of 3 nodes ready after 30000 ms');
    expect(out).toContain('hint: raise --ready-timeout');
  });

  it('says INTERRUPTED for an interrupted run', () => {
    const r = finalizeReport(sample(), pickTargets(CROSS_NODE_TARGETS), { interrupted: true });
    expect(verdictLine(r)).toMatch(/^verdict: INTERRUPTED \(stopped early/);
  });

  it('renders a report with empty collections', () => {
    const r = sample();
    r.metrics = {};
    r.connectionsPerNode = {};
    r.generator = { workers: [], bottleneck: false, notes: [] };
    r.events = [];
    r.targets = [];
    r.verdict = 'pass';
    const out = renderConsole(r);
    expect(out).toContain('no latency metrics');
    expect(out).toContain('targets: none checked');
    expect(out.split('\n').at(-1)).toBe('verdict: PASS (no targets checked)');
  });
});

describe('formatPercent', () => {
  it.each([
    [1, '100%'],
    [0.5, '50.00%'],
    [0.99999, '99.999%'],
    [0.999999, '99.9999%'],
    [0.9999933333, '99.999%'],
    [1 - 1e-9, '99.9999999%'],
    [0, '0.00%'],
  ])('%d → %s', (ratio, text) => {
    expect(formatPercent(ratio)).toBe(text);
  });
  it('never prints a ratio below 1 as 100', () => {
    for (let k = 1; k <= 12; k++) expect(formatPercent(1 - 10 ** -k)).not.toMatch(/^100(\.0*)?%$/);
  });
});

describe('renderProgressLine', () => {
  it('is one line with fixed fields, aligned across lines', () => {
    const a = renderProgressLine({ phase: 'measure', elapsedS: 12, connected: 9998, total: 10000, sentPerS: 500, receivedPerS: 49980, p99Ms: 13.4 });
    const b = renderProgressLine({ phase: 'connect', elapsedS: 2.5, connected: 12, total: 10000, sentPerS: 0, receivedPerS: 0, p99Ms: null });
    expect(a).not.toContain('\n');
    expect(a).toContain('[measure   ]');
    expect(a).toContain('12.0s');
    expect(a).toContain('9,998/10,000');
    expect(a).toContain('500/s');
    expect(a).toContain('49,980/s');
    expect(a).toContain('13.40 ms');
    expect(b).toMatch(/p99\s+- ms$/);
    expect(a.length).toBe(b.length);
    for (const field of [' conn ', ' sent ', ' recv ', ' p99 ']) expect(a.indexOf(field)).toBe(b.indexOf(field));
  });
});

describe('renderConsole: connection state recovery (--adapter redis-streams)', () => {
  const chaos = (): RunReport => JSON.parse(readFileSync(new URL('../fixtures/sample-report-chaos.json', import.meta.url), 'utf8'));

  it('prints the recovered sessions and replayed messages when the report has them, nothing otherwise', async () => {
    const { validateReport } = await import('../model/schema.js');
    const plain = renderConsole(chaos());
    expect(plain).not.toContain('sessions recovered');
    const r = chaos();
    r.topology.adapter = '@socket.io/redis-streams-adapter';
    r.reconnection = { ...r.reconnection!, recovered: 309, messagesReplayed: 2472, faults: r.reconnection!.faults.map((f) => ({ ...f, recovered: 309 })) };
    expect(validateReport(r)).toEqual([]);
    const out = renderConsole(r);
    expect(out).toContain('sessions recovered: 309 of 412 (75.00%), 2,472 messages replayed (@socket.io/redis-streams-adapter)');
    expect(out).toMatch(/│ sessions recovered │/);
    expect(out).toMatch(/│\s+309 │\n/);
  });
});

describe('stalls, retried capacity steps and storms in the console', () => {
  it('prints the stall rule, each stall with what was busy, and why a latency target failed', () => {
    const r = sample();
    r.stalls = {
      rule: { k: 4, floorMs: 25 },
      typicalP99Ms: 10,
      thresholdMs: 40,
      seconds: [],
      cpuProcesses: ['node-2'],
      stalls: [{ fromS: 8, seconds: 1, peakP99Ms: 278, busiest: [{ process: 'node-2', cpuPercent: 100 }] }],
    };
    r.targets = r.targets.map((t, i) => (i === 0 ? { ...t, status: 'fail' as const, explanation: 'p99 53 ms: 1 stall of 1.0 s at +8 s (p99 278 ms, node-2 at 100 % CPU); 1 of 20 seconds above 50 ms' } : t));
    const out = renderConsole(r);
    expect(out).toContain('stalls: 1 (a second is a stall when its p99 > max(4 × typical 10.00 ms, typical + 25 ms) = 40.00 ms):');
    expect(out).toContain('  +8 s for 1 s: p99 up to 278.00 ms; busiest: node-2 100 %');
    expect(out).toContain(`  ${r.targets[0].id} missed — p99 53 ms: 1 stall of 1.0 s at +8 s`);
  });

  it('shows how many samples and runs each capacity step had, and what a retry overruled', () => {
    const r = sample();
    r.capacitySearch = {
      limits: { p99Ms: 50, maxLost: 0 },
      rules: { searchWarmupS: 5, minSamples: 10000, stepRetries: 1, stepRepeats: 1 },
      steps: [
        { offeredPerSec: 5000, achievedPerSec: 5000, p50Ms: 3, p99Ms: 12, samples: 25000, lost: 0, duplicated: 0, reordered: 0, generatorBound: false, broke: [], attempts: 2, discarded: [{ p50Ms: 3, p99Ms: 294.7, lost: 0, samples: 25000, broke: ['p99 294.7 ms > 50 ms'] }] },
        { offeredPerSec: 10000, achievedPerSec: 9000, p50Ms: 30, p99Ms: 90, samples: 50000, lost: 0, duplicated: 0, reordered: 0, generatorBound: false, broke: ['p99 90 ms > 50 ms'], attempts: 2 },
      ],
      knee: { lastGoodPerSec: 5000, firstBadPerSec: 10000 },
    };
    const out = renderConsole(r);
    expect(out).toContain('p99 on >= 10,000 samples, a broken step retried 1×');
    expect(out).toMatch(/│\s+5,000 │.*│\s+25,000 │\s+2 │.*yes \(retried; earlier: p99 294\.70 ms\)/);
    expect(out).toMatch(/│\s+10,000 │.*│\s+50,000 │\s+2 │.*no: p99 90 ms > 50 ms/);
  });
});
