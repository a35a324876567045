import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../model/run-report.js';
import { addedLatencyMs, checksFor, expectedCounts, parseCalibrateOptions, renderCalibration, shapeOf, wireCase, type CalibrationResult } from './calibrate.js';
import { WsbenchError } from '../common/errors.js';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/report-default-run.json', import.meta.url), 'utf8')) as RunReport;

const defaults = parseCalibrateOptions({});
const shape = shapeOf(defaults);

/** A report as a default calibrate case would write it, with the given counts and latencies. */
function report(over: { lost?: number; dup?: number; reord?: number; samples?: number; sameP50?: number; crossP50?: number; crossMin?: number; max?: number; expected?: number; latMs?: number[]; heldMs?: number } = {}): RunReport {
  const r = structuredClone(FIXTURE);
  const expected = over.expected ?? shape.n * shape.rooms * shape.members;
  r.accounting = { ...r.accounting, expected, received: expected - (over.lost ?? 0), lost: over.lost ?? 0, duplicated: over.dup ?? 0, reordered: over.reord ?? 0 };
  r.counters = { ...r.counters, messages_published: shape.n * shape.rooms, unexpected_arrivals: 0, late_sends: 0 };
  r.metrics.broadcast_latency_ms = { ...r.metrics.broadcast_latency_ms, count: over.samples ?? shape.measured * shape.rooms * shape.members, max: over.max ?? 10, p99: 8 };
  r.metrics.broadcast_latency_same_node_ms = { ...r.metrics.broadcast_latency_same_node_ms, p50: over.sameP50 ?? 2 };
  r.metrics.broadcast_latency_cross_node_ms = { ...r.metrics.broadcast_latency_cross_node_ms, p50: over.crossP50 ?? 2.4, min: over.crossMin ?? 1, count: 100 };
  if (over.latMs) {
    const h = createLatencyHistogram();
    for (const v of over.latMs) h.recordValue(Math.round(v * 1000));
    r.metrics.broadcast_latency_ms = { ...r.metrics.broadcast_latency_ms, count: over.latMs.length, max: Math.max(...over.latMs), hdr: encodeHistogram(h) };
  }
  if (over.heldMs !== undefined) r.counters.publisher_stall_ms = over.heldMs;
  return r;
}

describe('calibrate options', () => {
  it('defaults to a small run whose expected counts are whole numbers', () => {
    expect(defaults).toMatchObject({ driver: 'local', server: 'socketio', connections: 300, rooms: 10, rate: 5, warmup: 1, duration: 4, delayMs: 20, dropEvery: 7, dropRoom: 'room-3', dupEvery: 5, stallMs: 200, wire: false });
    expect(shape).toEqual({ n: 25, measured: 20, members: 29, rooms: 10 });
  });

  it('reads flags as the command line gives them (strings, a comma list of cases)', () => {
    const o = parseCalibrateOptions({ connections: '610', rooms: '10', cases: 'drop, swap', delayMs: '15' });
    expect(o).toMatchObject({ connections: 610, cases: ['drop', 'swap'], delayMs: 15 });
  });

  it('reports every problem at once, in flag names, as WSB_INVALID_OPTION', () => {
    let err: unknown;
    try {
      parseCalibrateOptions({ connections: '301', rate: '3', cases: 'drop', dropRoom: 'room-11' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WsbenchError);
    expect((err as WsbenchError).code).toBe('WSB_INVALID_OPTION');
    const msg = (err as Error).message;
    expect(msg).toMatch(/--connections 301 and --rooms 10: the members/);
    expect(msg).toMatch(/--rate 3: 1,000,000 µs \/ rate/);
    expect(msg).toMatch(/--drop-room room-11: the rooms are room-1 … room-10/);
    expect(() => parseCalibrateOptions({ cases: 'nope' })).toThrow(/--cases/);
    expect(() => parseCalibrateOptions({ stallAt: '3.9' })).toThrow(/the stall must end inside/);
  });
});

describe('expected counts', () => {
  it('follow from what was published and where members sit', () => {
    expect(expectedCounts('drop', defaults, shape)).toEqual([3 * 29, 0, 0]);
    expect(expectedCounts('dup', defaults, shape)).toEqual([0, 5 * 29 * 10, 0]);
    expect(expectedCounts('swap', defaults, shape)).toEqual([0, 0, 12 * 29 * 10]);
    expect(expectedCounts('baseline', defaults, shape)).toEqual([0, 0, 0]);
  });
});

describe('checks', () => {
  it('counts must be equal: one delivery more or less disagrees', () => {
    const ok = checksFor('drop', defaults, report({ lost: 87 }), undefined);
    expect(ok.checks.every((c) => c.agrees)).toBe(true);
    const off = checksFor('drop', defaults, report({ lost: 86 }), undefined);
    expect(off.checks.map((c) => c.agrees)).toEqual([true, false]);
    expect(checksFor('swap', defaults, report({ reord: 3480 }), undefined).checks.every((c) => c.agrees)).toBe(true);
    expect(checksFor('dup', defaults, report({ dup: 1450, samples: 5799 }), undefined).checks.map((c) => c.agrees)).toEqual([true, true, false]);
  });

  it('a run that did not publish what it should fails the accounting check', () => {
    expect(checksFor('baseline', defaults, report({ expected: 7249 }), undefined).checks[0].agrees).toBe(false);
  });

  it('the delay is measured as a double difference against the baseline, within 1 ms, and no cross-node latency below d', () => {
    const baseline = report({ sameP50: 2, crossP50: 2.4 });
    const faulted = report({ sameP50: 2.2, crossP50: 22.9, crossMin: 21.5 });
    // (22.9 − 2.2) − (2.4 − 2) = 20.3
    expect(addedLatencyMs(faulted, baseline)).toBeCloseTo(20.3, 6);
    const c = checksFor('delay', defaults, faulted, baseline);
    expect(c.checks.map((k) => k.agrees)).toEqual([true, true, true, true]);
    expect(c.figures.addedP50Ms).toBeCloseTo(20.3, 6);
    const far = checksFor('delay', defaults, report({ sameP50: 2, crossP50: 23.5, crossMin: 19.5 }), baseline);
    expect(far.checks.map((k) => k.agrees)).toEqual([false, false, true, true]);
  });

  it('a stall must show up as latency of the message held the whole stall, never as missing samples', () => {
    const baseline = report();
    const samples = 5800;
    /** `samples` latencies: 3 ms, except the 29 deliveries of the held message (and 29 of one due 20 ms later). */
    const lat = (held: number[], next = 185) => [...Array(samples - 58).fill(3), ...Array(29).fill(next), ...held];
    const ok = checksFor('stall', defaults, report({ latMs: lat(Array.from({ length: 29 }, (_, i) => 205 + i * 0.1)), heldMs: 204.5 }), baseline);
    expect(ok.checks.map((k) => k.agrees)).toEqual([true, true, true, true, true]);
    expect(ok.figures.heldLowestMs).toBeCloseTo(205, 0);
    // The released burst delays the held message's later deliveries: only its fastest one must be ordinary.
    const burst = checksFor('stall', defaults, report({ latMs: lat(Array.from({ length: 29 }, (_, i) => 206 + i)), heldMs: 204.5 }), baseline);
    expect(burst.checks.map((k) => k.agrees)).toEqual([true, true, true, true, true]);
    // Held longer than the stall itself accounts for: the fastest delivery is far above the hold.
    const slow = checksFor('stall', defaults, report({ latMs: lat(Array(29).fill(230)), heldMs: 204.5 }), baseline);
    expect(slow.checks.map((k) => k.agrees)).toEqual([true, true, true, true, false]);
    // Coordinated omission: the held messages timed from when they left, not from when they were due.
    const co = checksFor('stall', defaults, report({ latMs: lat(Array(29).fill(4), 4), heldMs: 204.5 }), baseline);
    expect(co.checks.map((k) => k.agrees)).toEqual([true, true, true, false, false]);
    // Omission the other way: the held messages' samples are missing.
    const missing = checksFor('stall', defaults, report({ latMs: [...lat([]), ...Array(29).fill(3)].slice(0, samples - 29), heldMs: 204.5 }), baseline);
    expect(missing.checks[1].agrees).toBe(false);
    // A worker that never reported its hold fails that check.
    expect(checksFor('stall', defaults, report({ latMs: lat(Array(29).fill(205)) }), baseline).checks[2].agrees).toBe(false);
  });

  it('renders one row per check and a verdict line', () => {
    const r: CalibrationResult = {
      cases: [{ case: 'drop', injected: 'drop-every=7:room-3', runDir: '/x/drop', figures: {}, checks: checksFor('drop', defaults, report({ lost: 86 }), undefined).checks }],
      agrees: false,
      outDir: '/x',
    };
    const text = renderCalibration(r);
    expect(text).toMatch(/drop-every=7:room-3/);
    expect(text).toMatch(/NO/);
    expect(text).toMatch(/calibrate: 1 of 2 checks DISAGREE/);
  });

  it('shows the wire case\'s informational figures apart: they are not checks and are not counted', () => {
    const w = { samples: 100, matched: 99, beforeFrame: 0, clock: { errorUs: 20 }, overheadUs: { count: 99, p50: 40, p99: 300, max: 900 }, nodeToRecordedUs: { count: 99, p50: 500, p99: 2000, max: 4000 }, connections: 1000, sampleEvery: 10, captured: 1, dropped: 0 } as unknown as NonNullable<CalibrationResult['wire']>;
    const c = wireCase(w, '/x/wire', { lb: 1, node: 2 });
    expect(c.checks.map((k) => k.check)).toEqual(['logged arrivals matched to a captured frame', 'recorded before the frame reached the socket']);
    expect(c.info!.map((i) => i.what)).toEqual(['generator receive overhead p50 / p99 (socket → recorded)', 'node-1 wrote → recorded p50 / p99 (nginx + generator)']);
    const text = renderCalibration({ cases: [c], agrees: true, outDir: '/x' });
    expect(text).toContain('calibrate: all 2 checks agree');
    expect(text).toContain('informational (not checks, not counted):\n  wire: generator receive overhead p50 / p99 (socket → recorded): ');
  });
});
