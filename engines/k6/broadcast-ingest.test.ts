import { describe, expect, it } from 'vitest';
import { parseK6Summary } from './summary.js';
import { broadcastTimes, messagesPerPublisher, type BroadcastPlan } from './scripts/lib/plan.js';
import { ingestBroadcastExtras } from './broadcast-ingest.js';
import { K6_ADAPTERS, outageWindows } from './scenarios.js';

const counter = (count: number) => ({ type: 'counter', contains: 'default', values: { count, rate: count / 10 } });
const trend = (count: number, min: number) => ({
  type: 'trend',
  contains: 'time',
  values: { avg: min + 5, min, med: min + 4, max: min + 20, 'p(90)': min + 8, 'p(95)': min + 9, 'p(99)': min + 10, 'p(99.9)': min + 15, count },
});

const plan = K6_ADAPTERS['redis-outage'].plan({ connections: 150, rooms: 5, duration: 8, warmup: 1, outageAt: 2, outage: 2 }, { nodes: 3 }) as BroadcastPlan;

function summary(extra: Record<string, unknown> = {}) {
  return parseK6Summary({
    state: { testRunDurationMs: 15000 },
    metrics: {
      'deliveries_lost{class:connected}': counter(0),
      'deliveries_lost{class:disconnected}': counter(7),
      'deliveries_lost{class:publisher_down}': counter(3),
      'deliveries_lost{class:connected,path:same}': counter(0),
      'deliveries_lost{class:disconnected,path:same}': counter(2),
      'deliveries_lost{class:publisher_down,path:cross}': counter(3),
      deliveries_late: counter(40),
      'deliveries_late{path:cross}': counter(40),
      publish_failures: counter(1),
      'deliveries_expected{window:redis-outage}': counter(1000),
      'deliveries_first_arrivals{window:redis-outage}': counter(600),
      'deliveries_expected{window:redis-outage,path:same}': counter(300),
      'deliveries_first_arrivals{window:redis-outage,path:same}': counter(300),
      'deliveries_expected{window:redis-outage,path:cross}': counter(700),
      'deliveries_first_arrivals{window:redis-outage,path:cross}': counter(300),
      'broadcast_latency_ms{window:redis-outage}': trend(600, 2),
      ...extra,
    },
  });
}

describe('the broadcast k6 scripts’ loss classes, planned windows and resumption, read into the report', () => {
  it('plans redis-outage’s windows on intended send time, the outage where the harness stops Redis', () => {
    const t = broadcastTimes(plan);
    expect(plan.windows).toEqual(outageWindows(plan, 2, 2));
    expect(plan.windows!.map((w) => [w.name, w.fromMs - t.measureFrom, w.toMs - t.measureFrom, w.fault])).toEqual([
      ['before', 0, 2000, false],
      ['redis-outage', 2000, 4000, true],
      ['after', 4000, 8000, false],
    ]);
    expect(plan.resumeFromMs).toBe(t.measureFrom + 4000);
  });

  it('reads every loss class per path, never-sent messages, and the windows’ accounting (an unheard window is zero, not missing)', () => {
    const out = ingestBroadcastExtras(summary(), plan, { t0: 1_000_000, redisBackEpochMs: undefined, faults: true });
    expect(out.losses).toEqual({
      lostConnected: 0,
      lostDisconnected: 7,
      lostPublisherDown: 3,
      late: 40,
      sameNode: { lostConnected: 0, lostDisconnected: 2, lostPublisherDown: 0, late: 0 },
      crossNode: { lostConnected: 0, lostDisconnected: 0, lostPublisherDown: 3, late: 40 },
    });
    expect(out.counters.messages_never_sent).toBe(1);
    const w = out.windows!['redis-outage'];
    expect(w).toMatchObject({ startMs: 2000, endMs: 4000, accounting: { expected: 1000, received: 600, lost: 400 }, sameNode: { deliveryRatio: 1 }, crossNode: { expected: 700, received: 300, lost: 400 } });
    expect(w.broadcast_latency_ms).toMatchObject({ count: 600, p99: 12 });
    expect(out.windows!.before.accounting).toMatchObject({ expected: 0, received: 0, lost: 0 });
    // Nobody was disconnected: no reconnection section (as the Node engine).
    expect(out.reconnection).toBeUndefined();
    expect(out.notes).toContain('k6 engine: Redis was not seen back, so when cross-node delivery resumed is unknown');
    expect(out.counters.cross_node_resumed_after_ms).toBeUndefined();
  });

  it('messages a publisher VU never got to before the end are never sent, and the report says whose loss their deliveries are', () => {
    const planned = plan.rooms * plan.publishersPerRoom * messagesPerPublisher(plan);
    expect(planned).toBe(5 * 1 * 72);
    const short = ingestBroadcastExtras(summary({ messages_scheduled: counter(planned - 3) }), plan, { t0: 1_000_000, faults: true });
    expect(short.counters.messages_never_sent).toBe(1 + 3);
    expect(short.notes.filter((n) => n.startsWith('k6 engine: 3 of 360 scheduled messages never left their publisher VUs'))).toHaveLength(1);
    const all = ingestBroadcastExtras(summary({ messages_scheduled: counter(planned) }), plan, { t0: 1_000_000, faults: true });
    expect(all.counters.messages_never_sent).toBe(1);
    expect(all.notes.some((n) => n.includes('never left their publisher VUs'))).toBe(false);
  });

  it('times cross-node resumption from when the harness saw Redis back; an arrival before that leaves it unknown, never clamped', () => {
    const t0 = 1_000_000;
    const back = t0 + plan.resumeFromMs! + 150;
    const resumed = ingestBroadcastExtras(summary({ cross_resume_at_ms: trend(20, plan.resumeFromMs! + 400) }), plan, { t0, redisBackEpochMs: back, faults: true });
    expect(resumed.counters.cross_node_resumed_after_ms).toBe(250);
    expect(resumed.counters.redis_back_at_ms).toBe(4150);
    const early = ingestBroadcastExtras(summary({ cross_resume_at_ms: trend(20, plan.resumeFromMs! + 100) }), plan, { t0, redisBackEpochMs: back, faults: true });
    expect(early.counters.cross_node_resumed_after_ms).toBeUndefined();
    expect(early.notes.join(' ')).toContain('arrived 50 ms before the harness saw Redis back');
    const never = ingestBroadcastExtras(summary(), plan, { t0, redisBackEpochMs: back, faults: true });
    expect(never.counters.cross_node_resumed_after_ms).toBeUndefined();
    expect(never.notes).toContain('cross-node delivery did not resume before the run ended');
  });
});
