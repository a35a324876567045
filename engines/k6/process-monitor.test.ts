import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { NodeMetrics } from '../../cluster/types.js';
import { cpuSecondsFromStat, k6Health, nodesPeak, rssFromStatus, startK6Monitor, type K6ProcessSample } from './process-monitor.js';

const node = (id: string, connections: number | null, up = true): NodeMetrics => ({ nodeId: id, up, connections, rssBytes: null, heapUsedBytes: null, eventLoopLagMs: null, publishTotal: null });

describe('the k6 process watched from /proc', () => {
  it('reads utime + stime past a command name with spaces and parentheses, and VmRSS', () => {
    const stat = '4242 (k6 (run) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 9 0 1000 800000000 5000';
    expect(cpuSecondsFromStat(stat)).toBe(3);
    expect(rssFromStatus('Name:\tk6\nVmRSS:\t  204800 kB\nThreads:\t9\n')).toBe(204800 * 1024);
    expect(rssFromStatus('Name:\tk6\n')).toBeNull();
  });

  it('connections_peak is the highest sum the nodes reported at once; null when no node reported a count', () => {
    expect(nodesPeak([{ atMs: 1, nodes: [node('node-1', 40), node('node-2', 60)] }, { atMs: 2, nodes: [node('node-1', 50), node('node-2', 52)] }, { atMs: 3, nodes: [node('node-1', 10), node('node-2', null, false)] }])).toBe(102);
    expect(nodesPeak([{ atMs: 1, nodes: [node('node-1', null)] }])).toBeNull();
    expect(nodesPeak([])).toBeNull();
  });

  it('judges GENERATOR-BOUND by the Node rule on the cores k6 may use, or by its VUs’ event-loop delay', () => {
    const series = (cpu: number[]): K6ProcessSample[] => cpu.map((c, i) => ({ atMs: 1000 * (i + 1), cpuPercent: c, rssBytes: 100 + i }));
    const w = { fromMs: 0, toMs: 10_000 };
    const quiet = k6Health(series([20, 30, 25, 20]), w, 300, { p99: 4, max: 12 }, 2);
    expect(quiet.bound).toBe(false);
    expect(quiet.health).toMatchObject({ worker: 0, clients: 300, cpuPercentMean: 23.8, cpuPercentMax: 30, eventLoopLagP99Ms: 4, eventLoopLagMaxMs: 12, rssBytesMax: 103 });
    // 190 % of one core on 2 cores is 95 % of what k6 can use, for 3 of 4 seconds.
    expect(k6Health(series([190, 195, 185, 40]), w, 300, { p99: 4, max: 12 }, 2).bound).toBe(true);
    expect(k6Health(series([190, 195, 185, 40]), w, 300, { p99: 4, max: 12 }, 4).bound).toBe(false);
    const lagging = k6Health(series([20, 20]), w, 300, { p99: 80, max: 300 }, 2);
    expect(lagging.bound).toBe(true);
    expect(lagging.why[0]).toContain('80 ms late at p99');
  });

  it('samples real processes: a busy one shows CPU where a sleeping one shows none; RSS present; the nodes on the same clock', async () => {
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 4000; while (Date.now() < end) {}'], { stdio: 'ignore' });
    const idle = spawn('sleep', ['4'], { stdio: 'ignore' });
    await Promise.all([new Promise((r) => busy.once('spawn', r)), new Promise((r) => idle.once('spawn', r))]);
    const m = startK6Monitor(busy.pid!, async () => [node('node-1', 7)], 500);
    const quiet = startK6Monitor(idle.pid!, async () => [], 500);
    await Promise.all([new Promise((r) => busy.once('exit', r)), new Promise((r) => idle.once('exit', r))]);
    await Promise.all([m.stop(), quiet.stop()]);
    expect(m.samples.length).toBeGreaterThanOrEqual(3);
    expect(quiet.samples.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...quiet.samples.map((s) => s.cpuPercent))).toBe(0);
    expect(Math.max(...m.samples.map((s) => s.cpuPercent))).toBeGreaterThan(0);
    expect(m.samples.every((s) => s.rssBytes !== null && s.rssBytes > 0)).toBe(true);
    expect(nodesPeak(m.nodeSamples)).toBe(7);
  });
});
