import { describe, expect, it } from 'vitest';
import crossNodeBroadcast from '../../scenarios/cross-node-broadcast.js';
import { k6Command, localIpsFor, wsUrl } from './command.js';
import { K6_ADAPTERS, capacityChaos, maxDurationFor, serverBytesPerConnection, stormChaos, vusFor, type K6ChaosContext } from './scenarios.js';
import { broadcastTimes, connectedByMs, type BroadcastPlan } from './scripts/lib/plan.js';
import reconnectionStorm from '../../scenarios/reconnection-storm.js';
import connectionCapacity from '../../scenarios/connection-capacity.js';
import type { NodeMetrics } from '../../cluster/types.js';

const defaults = crossNodeBroadcast.options.parse({}) as Record<string, unknown>;

describe('the k6 command line (pure)', () => {
  const plan = K6_ADAPTERS['cross-node-broadcast'].plan(defaults, { nodes: 3 });
  const cmdInput: Parameters<typeof k6Command>[0] = {
    k6Path: '/usr/local/bin/k6',
    scriptPath: '/runs/r1/k6/cross-node-broadcast.js',
    runDir: '/runs/r1',
    url: 'http://127.0.0.1:40123',
    protocol: 'socketio',
    tokensFile: '/runs/r1/k6/tokens.json',
    plan,
    thresholds: { broadcast_latency_ms: ['p(99)<=50'] },
    baseEnv: { PATH: '/usr/bin', HOME: '/root' },
  };
  const cmd = k6Command(cmdInput);

  it('runs the bundled script with both summaries, the Trend stats a MetricSummary needs, one address per VU', () => {
    expect(cmd.command).toBe('/usr/local/bin/k6');
    expect(cmd.args.slice(0, 7)).toEqual([
      'run',
      '--summary-export',
      '/runs/r1/k6/summary-export.json',
      '--summary-trend-stats',
      'avg,min,med,max,p(90),p(95),p(99),p(99.9),count',
      '--local-ips',
      localIpsFor(plan.vus),
    ]);
    expect(cmd.args.at(-1)).toBe('/runs/r1/k6/cross-node-broadcast.js');
    expect(cmd.summaryExportPath).toBe('/runs/r1/k6/summary-export.json');
    expect(cmd.handleSummaryPath).toBe('/runs/r1/k6/handle-summary.json');
  });

  it('passes the cluster URL, protocol, tokens, plan, thresholds and summary path as -e variables', () => {
    const vars = Object.fromEntries(
      cmd.args.flatMap((a, i) => (cmd.args[i - 1] === '-e' ? [a.split(/=(.*)/s).slice(0, 2) as [string, string]] : [])),
    );
    expect(Object.keys(vars)).toEqual(['WSB_URL', 'WSB_PROTOCOL', 'WSB_TOKENS_FILE', 'WSB_PLAN', 'WSB_THRESHOLDS', 'WSB_SUMMARY_JSON']);
    expect(vars.WSB_URL).toBe('ws://127.0.0.1:40123');
    expect(vars.WSB_PROTOCOL).toBe('socketio');
    expect(vars.WSB_TOKENS_FILE).toBe('/runs/r1/k6/tokens.json');
    expect(JSON.parse(vars.WSB_PLAN)).toEqual(plan);
    expect(JSON.parse(vars.WSB_THRESHOLDS)).toEqual({ broadcast_latency_ms: ['p(99)<=50'] });
    expect(vars.WSB_SUMMARY_JSON).toBe('/runs/r1/k6/handle-summary.json');
  });

  it('runs one share of the test with --execution-segment (and its sequence) when asked, the whole test otherwise', () => {
    expect(cmd.args).not.toContain('--execution-segment');
    const seg = k6Command({ ...cmdInput, segment: { segment: '1/3:2/3', sequence: '0,1/3,2/3,1' } });
    const i = seg.args.indexOf('--execution-segment');
    expect(seg.args.slice(i, i + 4)).toEqual(['--execution-segment', '1/3:2/3', '--execution-segment-sequence', '0,1/3,2/3,1']);
    const shard = k6Command({ ...cmdInput, segment: { segment: '1/3:2/3', sequence: '0,1/3,2/3,1', index: 2 }, samplesJson: '/tmp/run/k6/samples.ndjson' });
    expect(shard.args).toContain('WSB_SEGMENT_INDEX=2');
    expect(shard.args.slice(shard.args.indexOf('--out'), shard.args.indexOf('--out') + 2)).toEqual(['--out', 'json=/tmp/run/k6/samples.ndjson']);
    expect(shard.samplesJson).toBe('/tmp/run/k6/samples.ndjson');
    expect(cmd.args).not.toContain('--out');
    expect(seg.args.at(-1)).toBe('/runs/r1/k6/cross-node-broadcast.js');
  });

  it('keeps the harness environment and turns k6 usage reports off', () => {
    expect(cmd.env).toEqual({ PATH: '/usr/bin', HOME: '/root', K6_NO_USAGE_REPORT: 'true' });
  });

  it('gives every VU its own 127.0.x.1 address (NGINX ip_hash hashes three octets)', () => {
    expect(localIpsFor(3)).toBe('127.0.1.1,127.0.2.1,127.0.3.1');
    const ips = localIpsFor(250).split(',');
    expect(new Set(ips.map((ip) => ip.split('.').slice(0, 3).join('.'))).size).toBe(250);
    expect(wsUrl('https://h:1/')).toBe('wss://h:1');
  });
});

describe('k6 plans from the run options', () => {
  it('maps the Node engine’s cross-node-broadcast options to the script plan', () => {
    const p = K6_ADAPTERS['cross-node-broadcast'].plan({ ...defaults, connections: 300, rooms: 10, rate: 4, duration: 5, warmup: 1, drain: 1 }, { nodes: 3 }) as BroadcastPlan;
    expect(p).toMatchObject({ scenario: 'cross-node-broadcast', connections: 300, rooms: 10, publishersPerRoom: 1, rate: 4, warmupMs: 1000, durationMs: 5000, drainMs: 1000, connectRate: 500 });
    expect(p.vus).toBe(31); // at least 30, coprime with 10 rooms
    expect(p.maxDuration).toMatch(/^\d+s$/);
  });

  it('chooses enough VUs (source addresses), at most 200 connections each, coprime with the room count', () => {
    expect(vusFor(10)).toBe(10);
    expect(vusFor(1240, 40)).toBe(31);
    expect(vusFor(10_000)).toBe(50);
    expect(vusFor(10_000, 40)).toBe(51);
    expect(vusFor(100_000)).toBe(250);
    expect(maxDurationFor(30_001)).toBe('91s');
  });

  it('plans reconnection-storm from the Node engine’s options and storms NGINX twice on the script’s clock', async () => {
    const o = reconnectionStorm.options.parse({ connections: 100, rooms: 5, connectRate: 100, stormAt: 2, gap: 1 }) as Record<string, unknown>;
    const p = K6_ADAPTERS['reconnection-storm'].plan(o, { nodes: 3 }) as BroadcastPlan;
    // It publishes as cross-node-broadcast does (so no-loss-while-connected is measured), and reconnects storm-wise.
    expect(p).toMatchObject({ scenario: 'reconnection-storm', connections: 100, rooms: 5, rate: 8, durationMs: 25_000, drainMs: 2000, reconnect: 'storm', inflightMarginMs: 500 });
    expect(p.maxDuration).toBe(`${Math.ceil(broadcastTimes(p).closeAt / 1000) + 60}s`);
    // A cluster whose nodes hold 100 connections again right after NGINX restarts.
    const log: string[] = [];
    let up = true;
    const c: K6ChaosContext = {
      plan: p,
      options: o,
      cluster: {
        nodes: [],
        lb: { stop: async () => void (up = false), start: async () => void (up = true) } as K6ChaosContext['cluster']['lb'],
        redis: {} as K6ChaosContext['cluster']['redis'],
        metrics: async () => [{ nodeId: 'node-1', up: true, connections: up ? 100 : 0, rssBytes: null, heapUsedBytes: null, eventLoopLagMs: null, publishTotal: null }],
      },
      at: async (ms) => void log.push(`at ${ms}`),
      sleep: async (ms) => void log.push(`sleep ${ms}`),
      act: async (type, detail, fn) => {
        await fn();
        log.push(`${type} (${detail})`);
      },
      chaos: async (a) => {
        log.push(a.type);
        up = a.type === 'start-lb' ? true : a.type === 'stop-lb' ? false : up;
        return { outcome: 'ok', startEpochMs: 0, endEpochMs: 0 };
      },
      event: (type, detail, outcome) => log.push(`${type} ${outcome}: ${detail}`),
      signal: new AbortController().signal,
    };
    await stormChaos(c);
    expect(log.map((l) => l.replace(/after \d+ ms/, 'after N ms'))).toEqual([
      `at ${broadcastTimes(p).measureFrom + 2000}`,
      'storm undefined: socketio: every connection drops',
      'stop-lb',
      'start-lb',
      'all-back ok: storm socketio: 100 connections back after N ms',
      'sleep 1000',
      'storm undefined: full-jitter: every connection drops',
      'stop-lb',
      'start-lb',
      'all-back ok: storm full-jitter: 100 connections back after N ms',
    ]);
  });

  it('measures connection-capacity’s server memory per connection from the nodes’ RSS before and while holding', async () => {
    const m = (id: string, rss: number | null, connections: number | null): NodeMetrics => ({ nodeId: id, up: true, connections, rssBytes: rss, heapUsedBytes: null, eventLoopLagMs: null, publishTotal: null });
    expect(serverBytesPerConnection([m('node-1', 100e6, 0), m('node-2', 100e6, 0)], [m('node-1', 110e6, 1000), m('node-2', 105e6, 1000)])).toBe(7500);
    expect(serverBytesPerConnection([m('node-1', null, 0)], [m('node-1', null, 1000)])).toBeNull();
    const o = connectionCapacity.options.parse({ connections: 100, connectRate: 100, hold: 4 }) as Record<string, unknown>;
    const p = K6_ADAPTERS['connection-capacity'].plan(o, { nodes: 1 });
    expect(p).toMatchObject({ scenario: 'connection-capacity', connections: 100, holdMs: 4000 });
    const reads = [[m('node-1', 50e6, 0)], [m('node-1', 51e6, 100)]];
    const waits: number[] = [];
    const out = await capacityChaos({
      plan: p,
      options: o,
      cluster: { nodes: [], lb: {} as K6ChaosContext['cluster']['lb'], redis: {} as K6ChaosContext['cluster']['redis'], metrics: async () => reads.shift()! },
      chaos: async () => ({ outcome: 'ok', startEpochMs: 0, endEpochMs: 0 }),
      at: async (ms) => void waits.push(ms),
      sleep: async () => undefined,
      act: async () => undefined,
      event: () => undefined,
      signal: new AbortController().signal,
    });
    expect(waits).toEqual([connectedByMs(p) + 2000]);
    expect(out).toEqual({ counters: { server_connections_reported: 100, server_bytes_per_connection: 10_000 }, notes: [] });
  });
});
