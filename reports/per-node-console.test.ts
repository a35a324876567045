import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './console.js';
import { renderHtml } from './html.js';
import { perNodeTables, WORST_MARK } from './per-node-console.js';
import type { NodeAttribution, RunReport } from '../model/run-report.js';

const load = (): RunReport => JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8'));
const row = (node: string, p99: number, lost = 0, neverSent = 0): NodeAttribution => ({
  node,
  latency_ms: { unit: 'ms', count: 100, min: 1, mean: p99 / 2, p50: p99 / 3, p90: p99 / 2, p95: p99 / 1.5, p99, p999: p99, max: p99 },
  expected: 1000,
  received: 1000 - lost,
  lost,
  neverSent,
  late: 0,
});

describe('per-node tables', () => {
  it('mark the receiving and the publishing node with the highest p99, in the console and the HTML', () => {
    const r = load();
    r.perNode = { receiving: [row('node-1', 5), row('node-2', 2100, 30, 0), row('node-3', 6)], publishing: [row('node-1', 900), row('node-2', 7), row('node-3', 8, 12, 12)] };
    r.windows = { pause: { startMs: 2000, endMs: 4000, broadcast_latency_ms: row('x', 1).latency_ms, accounting: r.accounting, sameNode: r.accounting.sameNode, crossNode: r.accounting.crossNode, perNode: { receiving: [row('node-1', 3), row('node-3', 40)], publishing: [] } } };
    const ts = perNodeTables(r);
    expect(ts.map((t) => t.head[0])).toEqual(['receiving node', 'publishing node', '[pause] receiving node']);
    const marked = ts.map((t) => t.rows.find((x) => x[x.length - 1] === WORST_MARK)?.[0]);
    expect(marked).toEqual(['node-2', 'node-1', 'node-3']);
    const text = renderConsole(r);
    expect(text).toMatch(/node-2 .*2,100\.00 .*30 .*◀ worst p99/);
    expect(text).toContain('[pause] receiving node');
    expect(renderHtml(r)).toContain('id="per-node"');
  });

  it('show never-sent losses in the console loss table and the throughput line in every broadcast run', () => {
    const r = load();
    r.accounting.losses = { lostConnected: 0, lostDisconnected: 0, lostPublisherDown: 0, neverSent: 290, late: 0, sameNode: { lostConnected: 0, lostDisconnected: 0, lostPublisherDown: 0, neverSent: 90, late: 0 }, crossNode: { lostConnected: 0, lostDisconnected: 0, lostPublisherDown: 0, neverSent: 200, late: 0 } };
    r.counters.messages_never_sent = 10;
    r.counters.messages_published_per_sec = 320;
    const text = renderConsole(r);
    expect(text).toMatch(/never sent/);
    expect(text).toMatch(/total +│ +290 │/);
    expect(text).toMatch(/320\.0 messages\/s published/);
    expect(text).toMatch(/10 never sent/);
  });
});
