/**
 * `wsbench run security-probes` through the real bin against real clusters: it passes against every
 * reference-server variant, and with each check switched off on the nodes (`--insecure-disable`,
 * the test/calibration switch) exactly the probe family that checks it fails (exit 1) — the probes
 * can catch something. Every run leaves no process behind.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../model/run-report.js';
import { validateReport } from '../../model/schema.js';
import { wsbench } from './support/cli.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

/**
 * A short background broadcast: the probes themselves take about a second. The drain stays at the
 * scenario's 1 s: the slow-consumer probe pushes 64 MiB through one node, which holds that node's
 * cross-node deliveries back for a moment — with no drain, a message published just before the end
 * was still in flight when the run was counted, and was (rightly) lost.
 */
const SHORT = ['--duration', '1', '--warmup', '0', '--drain', '1'];
const FAMILIES = ['auth', 'origin', 'size-limit', 'rate-limit', 'room-auth', 'slow-consumer'];

async function probeRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; report: RunReport }> {
  const out = mkdtempSync(join(tmpdir(), 'wsb-probes-'));
  const tag = newTag();
  const r = await wsbench(['run', 'security-probes', ...args, '--out', out], { env: { ...process.env, WSB_TEST_TAG: tag } });
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  expect(validateReport(report)).toEqual([]);
  const left = await waitNoRunProcesses({ tag, dir: out });
  expect(describePids(left)).toEqual([]);
  return { ...r, report };
}

const failedFamilies = (r: RunReport) => [...new Set(r.probes!.results.filter((x) => x.status !== 'pass').map((x) => x.family))];

describe('security-probes', () => {
  it('socketio: every probe gets the protective outcome, nodes stay up, exit 0', async () => {
    const { code, stdout, stderr, report } = await probeRun(SHORT);
    expect(stderr).not.toContain('error WSB_');
    expect(code).toBe(0);
    expect(report.verdict).toBe('pass');
    const p = report.probes!;
    expect(p.results.map((x) => x.family).filter((f, i, a) => a.indexOf(f) === i)).toEqual(FAMILIES);
    expect(p.results.filter((x) => x.status !== 'pass')).toEqual([]);
    expect(p.results.filter((x) => x.family === 'auth').map((x) => x.id)).toEqual([
      'auth/no-token',
      'auth/malformed',
      'auth/wrong-signature',
      'auth/alg-none',
      'auth/expired',
      'auth/wrong-audience',
    ]);
    for (const x of p.results.filter((x) => x.family === 'auth')) expect(x.observed).toMatch(/^connect_error "unauthorized: /);
    expect(p.results.find((x) => x.id === 'origin/foreign-origin')!.observed).toMatch(/HTTP 400/);
    expect(p.results.find((x) => x.id === 'size-limit/oversized-frame')!.details!.closeCode).toBe(1009);
    const rate = p.results.find((x) => x.family === 'rate-limit')!.details!;
    expect(rate).toMatchObject({ accepted: 100, rateLimited: 20 });
    const slow = p.results.find((x) => x.family === 'slow-consumer')!.details!;
    expect(slow.closeCode).toBe(1006);
    expect(slow.messagesDelivered as number).toBeLessThan(slow.messagesPublished as number);
    expect(slow.nodeSlowConsumerDrops).toBe(1);
    expect(p.nodes).toHaveLength(3);
    expect(p.nodesStayedUp).toBe(true);
    expect(report.counters).toMatchObject({ probes_run: 12, probes_failed: 0, nodes_down_during_probes: 0 });
    expect(report.targets.map((t) => [t.id, t.status])).toEqual([
      ['probe-auth', 'pass'],
      ['probe-origin', 'pass'],
      ['probe-size-limit', 'pass'],
      ['probe-rate-limit', 'pass'],
      ['probe-room-auth', 'pass'],
      ['probe-slow-consumer', 'pass'],
      ['probe-nodes-up', 'pass'],
      // The console calls a loss while connected a CLUSTER FAILURE: a target judges it here too.
      ['no-loss-while-connected', 'pass'],
    ]);
    expect(stdout).toMatch(/security probes \([\d.]+ s\): 12 of 12 passed/);
    expect(stdout).toContain('nodes stayed up: node-1, node-2, node-3');
  });

  it.each(['ws', 'bun'])('%s: every probe passes (HTTP 401 / 403 at the upgrade), exit 0', async (server) => {
    const { code, report } = await probeRun(['--server', server, ...SHORT]);
    expect(code).toBe(0);
    expect(report.probes!.results.filter((x) => x.status !== 'pass')).toEqual([]);
    for (const x of report.probes!.results.filter((x) => x.family === 'auth')) expect(x.observed).toMatch(/^upgrade refused: HTTP 401/);
    expect(report.probes!.results.find((x) => x.family === 'origin')!.observed).toMatch(/HTTP 403/);
    expect(report.probes!.nodesStayedUp).toBe(true);
  });

  // One node and a tiny background keep each run short; the switch is what matters.
  const SWITCHES: Array<[check: string, family: string]> = [
    ['auth', 'auth'],
    ['origin', 'origin'],
    ['size-limit', 'size-limit'],
    ['rate-limit', 'rate-limit'],
    ['room-auth', 'room-auth'],
    ['buffer-limit', 'slow-consumer'],
  ];
  it('socketio with each check disabled (--insecure-disable): exactly that family fails, exit 1, the switch is in the report', async () => {
    const one = async ([check]: [string, string]): Promise<[string, number | null, string[], string]> => {
      const { code, stderr, report } = await probeRun(['--insecure-disable', check, '--nodes', '1', '--connections', '8', '--rooms', '2', ...SHORT]);
      expect(stderr).toContain(`INSECURE NODES (test/calibration only): every node skips these checks on purpose: ${check}`);
      expect(report.topology.overrides).toContainEqual(expect.objectContaining({ setting: 'insecureDisable', value: check }));
      const missed = report.targets.filter((t) => t.status !== 'pass').map((t) => t.id);
      return [check, code, failedFamilies(report), missed.join(',')];
    };
    // Two runs at a time (separate clusters): each takes a few seconds, mostly start and teardown.
    const seen: Array<[string, number | null, string[], string]> = [];
    for (let i = 0; i < SWITCHES.length; i += 2) seen.push(...(await Promise.all(SWITCHES.slice(i, i + 2).map(one))));
    expect(seen).toEqual(SWITCHES.map(([check, family]) => [check, 1, [family], `probe-${family}`]));
  });
});
