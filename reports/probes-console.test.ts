import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './console.js';
import { validateReport } from '../model/schema.js';
import type { RunReport } from '../model/run-report.js';

/** A real default `wsbench run security-probes` (socketio, every probe passed). */
const load = (): RunReport => JSON.parse(readFileSync(new URL('../fixtures/report-security-probes-run.json', import.meta.url), 'utf8')) as RunReport;

describe('the probes section', () => {
  it('lists every probe with expected and observed, node health and the background latency', () => {
    const text = renderConsole(load());
    expect(text).toMatch(/^security probes \([\d.]+ s\): 12 of 12 passed$/m);
    for (const id of ['auth/no-token', 'auth/alg-none', 'origin/foreign-origin', 'size-limit/oversized-frame', 'rate-limit/publish-flood', 'room-auth/join-ungranted', 'slow-consumer/never-reads']) {
      expect(text).toContain(id);
    }
    expect(text).toContain('nodes stayed up: node-1, node-2, node-3');
    expect(text).toMatch(/other clients meanwhile \(40 background connections\): \d+ deliveries, 0 lost, p50 [\d.]+ ms/);
    expect(text).toContain('verdict: PASS (7/7 targets met)');
  });

  it('names the failed probes and down nodes, and stays within the schema', () => {
    const r = load();
    const p = r.probes!;
    p.results[0] = { ...p.results[0], status: 'fail', observed: 'accepted: connected (welcome from node-1)' };
    p.nodes[1] = { ...p.nodes[1], downScrapes: 2 };
    p.nodesStayedUp = false;
    expect(validateReport(r)).toEqual([]);
    const text = renderConsole(r);
    expect(text).toMatch(/^security probes \([\d.]+ s\): 11 of 12 passed — failed: auth\/no-token$/m);
    expect(text).toMatch(/│ FAIL +│ auth\/no-token/);
    expect(text).toContain('NODES DOWN during the probes: node-2');
  });

  it('the schema rejects a probe with an unknown status', () => {
    const r = load() as unknown as { probes: { results: Array<{ status: string }> } };
    r.probes.results[3].status = 'maybe';
    expect(validateReport(r)).toEqual(['probes.results[3].status: must be one of "pass", "fail", "error", "not-applicable"']);
  });

  it('a probe the profile cannot express is N/A: neither passed nor failed, named on the summary line', () => {
    const r = load();
    const p = r.probes!;
    p.results[5] = { ...p.results[5], status: 'not-applicable', expected: 'n/a', observed: 'not applicable: no aud' };
    p.results[0] = { ...p.results[0], status: 'fail' };
    expect(validateReport(r)).toEqual([]);
    const text = renderConsole(r);
    expect(text).toMatch(/^security probes \([\d.]+ s\): 10 of 12 passed — failed: auth\/no-token — not applicable: auth\/wrong-audience$/m);
    expect(text).toMatch(/│ N\/A +│ auth\/wrong-audience/);
  });
});
