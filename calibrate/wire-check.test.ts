import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crossCheck, epochToUs, parseFrameLine, percentiles, type WireFrame } from './wire-check.js';
import { measureClockOffset, readReceiveLogs, writeReceiveLog, type ReceiveLogFile } from './receive-log.js';
import { ArrivalRecorder } from '../load/arrival-recorder.js';

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

describe('reading tshark fields', () => {
  it('turns epoch text into µs without losing digits', () => {
    expect(epochToUs('1795922560.594298656')).toBe(1795922560594298.656);
    expect(epochToUs('1795922560.5')).toBe(1795922560500000);
  });

  it('finds every (pub, seq) in a segment, in both wire protocols, binary framing included', () => {
    const sio = '\x81\x5e42["msg",{"room":"room-1","payload":{"pub":3,"seq":17,"t":123,"n":"node-1"}}]';
    const json = '\x81\x60{"type":"msg","data":{"room":"room-2","payload":{"pub":4,"seq":0,"t":9,"n":"node-2"}}}';
    const f = parseFrameLine(`1795922560.000001000\t8080\t127.0.7.1\t${hex(sio + json)}`);
    expect(f).toEqual({ epochUs: 1795922560000001, srcPort: 8080, dstAddr: '127.0.7.1', messages: [[3, 17], [4, 0]] });
    expect(parseFrameLine('1795922560.1\t8080\t127.0.0.1\t')).toBeNull();
    expect(parseFrameLine(`1795922560.1\t8080\t127.0.0.1\t${hex('HTTP/1.1 200 OK')}`)).toBeNull();
  });
});

describe('crossCheck', () => {
  const offset = 1_000_000_000_000;
  const clock = { offsetUs: offset, uncertaintyUs: 0.5, spreadUs: 0.25, edges: 7 };
  const log: ReceiveLogFile = {
    worker: 0,
    every: 1,
    clock: { start: clock, end: { ...clock, offsetUs: offset + 0.5 } },
    receivers: { '1': ['127.0.2.1', 'node-1'], '2': ['127.0.3.1', 'node-2'] },
    // receiver, pub, seq, receive time (monotonic µs)
    samples: [1, 0, 5, 5000, 2, 0, 5, 5300, 1, 0, 6, 9000, 2, 0, 7, 100],
  };
  const frame = (epochUs: number, srcPort: number, dstAddr: string, pub: number, seq: number): WireFrame => ({ epochUs, srcPort, dstAddr, messages: [[pub, seq]] });
  const frames = [
    frame(offset + 4000, 9000, '127.0.0.1', 0, 5), // node-1 wrote seq 5
    frame(offset + 4800, 8080, '127.0.2.1', 0, 5), // reached receiver 1's socket
    frame(offset + 5000, 8080, '127.0.3.1', 0, 5), // reached receiver 2's socket
    frame(offset + 8990, 8080, '127.0.2.1', 0, 6),
    frame(offset + 8991, 8080, '127.0.2.1', 0, 6), // a second segment with the same text: the first counts
    frame(offset + 200, 8080, '127.0.3.1', 0, 7), // receiver 2 "recorded" seq 7 before it reached its socket
  ];

  it('matches each logged arrival to the frame to its own address, and measures socket → recorded', () => {
    const r = crossCheck(frames, [log], { lbPort: 8080, nodePort: 9000, node: 'node-1' });
    expect(r.samples).toBe(4);
    expect(r.matched).toBe(4);
    expect(r.framesToClients).toBe(5);
    expect(r.framesFromNode).toBe(1);
    expect(r.overheadUs).toMatchObject({ count: 4, min: -100, max: 300 });
    // Receiver 1 sits on node-1: node wrote at 4000, recorded at 5000.
    expect(r.nodeToRecordedUs).toMatchObject({ count: 1, p50: 1000 });
    expect(r.beforeFrame).toBe(1);
    expect(r.clock.spreadUs).toBe(0.5);
    expect(r.clock.errorUs).toBe(2);
  });

  it('counts a logged arrival without a frame as unmatched', () => {
    const r = crossCheck(frames.slice(0, 1), [log], { lbPort: 8080, nodePort: 9000, node: 'node-1' });
    expect(r.samples).toBe(4);
    expect(r.matched).toBe(0);
    expect(r.overheadUs).toBeNull();
  });

  it('percentiles are nearest-rank over the values', () => {
    expect(percentiles([5, 1, 3, 2, 4])).toEqual({ count: 5, min: 1, p50: 3, p90: 5, p99: 5, max: 5 });
    expect(percentiles([])).toBeNull();
  });
});

describe('the receive log', () => {
  it('the recorder keeps every n-th timed arrival (not warm-up, not duplicates), and nothing when off', () => {
    const rec = new ArrivalRecorder();
    rec.measureFromUs = 0;
    const r = { id: 7, nodeId: 'node-1' };
    for (let seq = 0; seq < 10; seq++) rec.onArrival(r, { payload: { pub: 2, seq, t: 0, n: 'node-1' } });
    expect(rec.samples).toEqual([]);
    rec.sampleEvery = 3;
    for (let seq = 10; seq < 20; seq++) rec.onArrival(r, { payload: { pub: 2, seq, t: 0, n: 'node-1' } });
    const seqs = rec.samples.filter((_, i) => i % 4 === 2);
    expect(seqs).toEqual([10, 13, 16, 19]);
    expect(rec.samples.filter((_, i) => i % 4 === 0)).toEqual([7, 7, 7, 7]);
    // Duplicates and warm-up arrivals (intended before measureFromUs) are not timed, so not logged.
    for (let seq = 10; seq < 20; seq++) rec.onArrival(r, { payload: { pub: 2, seq, t: 0, n: 'node-1' } });
    rec.measureFromUs = 1000;
    for (let seq = 20; seq < 30; seq++) rec.onArrival(r, { payload: { pub: 2, seq, t: 0, n: 'node-1' } });
    expect(rec.samples.length).toBe(16);
  });

  it('each worker writes its own file next to the path; all are read back in worker order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-rlog-'));
    const path = join(dir, 'receive-log');
    const c = measureClockOffset(3);
    for (const worker of [1, 0]) writeReceiveLog(path, { worker, every: 10, clock: { start: c, end: c }, receivers: {}, samples: [worker] });
    expect(readReceiveLogs(path).map((l) => l.samples)).toEqual([[0], [1]]);
  });

  it('the clock offset is found from millisecond edges', () => {
    const c = measureClockOffset(3);
    expect(c.edges).toBeGreaterThanOrEqual(1);
    expect(c.uncertaintyUs).toBeLessThanOrEqual(10);
  });
});
