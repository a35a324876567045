import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  broadcastTimes,
  connectedByMs,
  connectionsOfVu,
  executionSegment,
  segmentOfVu,
  membersOfRoom,
  messagesPerPublisher,
  openAtMs,
  policyForDrop,
  readEnv,
  reconnectDelayMs,
  roleOf,
  sendAtMs,
  type BroadcastPlan,
} from './plan.js';
import { ReceiverLedger } from './ledger.js';

const plan: BroadcastPlan = {
  scenario: 'cross-node-broadcast',
  connections: 130,
  vus: 7,
  connectRate: 100,
  startDelayMs: 1000,
  settleMs: 2000,
  maxDuration: '90s',
  rooms: 4,
  publishersPerRoom: 2,
  rate: 8,
  warmupMs: 1000,
  durationMs: 3000,
  drainMs: 1000,
  payloadBytes: 0,
};

describe('k6 script plan: connections, roles, schedule', () => {
  it('deals every connection to exactly one VU, round-robin', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 300 }), (connections, vus) => {
        const all = Array.from({ length: vus }, (_, v) => connectionsOfVu(v + 1, { vus, connections })).flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: connections }, (_, g) => g));
      }),
    );
    expect(connectionsOfVu(3, plan).slice(0, 3)).toEqual([2, 9, 16]);
  });

  it('split into N segments: each VU (idInTest) holds whole rooms of its own segment; together every connection once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 300 }), (n, perSegment, ppr, extra) => {
        const rooms = n + (extra % 13);
        const connections = rooms * ppr + rooms + extra;
        const p = { ...plan, vus: n * perSegment, connections, rooms, publishersPerRoom: ppr, segments: n };
        const all: number[] = [];
        for (let vu = 1; vu <= p.vus; vu++) {
          const seg = segmentOfVu(vu, n);
          for (const g of connectionsOfVu(vu, p)) {
            // Every connection of a VU is in a room of the VU's segment (room k runs in shard k mod N + 1, as the Node engine).
            expect(roleOf(g, p).room % n).toBe(seg);
            all.push(g);
          }
        }
        expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: connections }, (_, g) => g));
      }),
    );
    // One segment: the whole-test deal, unchanged.
    expect(connectionsOfVu(3, { ...plan, segments: 1 })).toEqual(connectionsOfVu(3, plan));
  });

  it("names k6's equal execution segments as the k6-operator does", () => {
    expect(executionSegment(1, 2)).toEqual({ segment: '0:1/2', sequence: '0,1/2,1' });
    expect(executionSegment(2, 3)).toEqual({ segment: '1/3:2/3', sequence: '0,1/3,2/3,1' });
    expect(executionSegment(1, 1)).toEqual({ segment: '0:1', sequence: '0,1' });
  });

  it('makes the first rooms × publishersPerRoom connections publishers and counts members per room exactly', () => {
    expect(roleOf(0, plan)).toEqual({ role: 'publisher', pub: 0, room: 0 });
    expect(roleOf(5, plan)).toEqual({ role: 'publisher', pub: 5, room: 1 });
    expect(roleOf(8, plan)).toEqual({ role: 'member', room: 0 });
    expect(roleOf(13, plan)).toEqual({ role: 'member', room: 1 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 600 }), (rooms, pubs, extra) => {
        const p = { ...plan, rooms, publishersPerRoom: pubs, connections: rooms * pubs + extra };
        const counted = new Array<number>(rooms).fill(0);
        for (let g = 0; g < p.connections; g++) {
          const r = roleOf(g, p);
          if (r.role === 'member') counted[r.room]++;
        }
        expect(counted).toEqual(counted.map((_, room) => membersOfRoom(room, p)));
      }),
    );
  });

  it('schedules connects at connectRate, then publishing after the settle time, staggered per publisher', () => {
    expect(openAtMs(0, plan)).toBe(1000);
    expect(openAtMs(50, plan)).toBe(1500);
    expect(connectedByMs(plan)).toBe(1000 + 1290 + 2000);
    const t = broadcastTimes(plan);
    expect(t).toEqual({ publishAt: 4290, measureFrom: 5290, measureTo: 8290, closeAt: 9290 });
    expect(messagesPerPublisher(plan)).toBe(32);
    expect(sendAtMs(0, 0, plan)).toBe(4290);
    expect(sendAtMs(4, 0, plan)).toBe(4290 + 62.5);
    expect(sendAtMs(0, 2, plan)).toBe(4290 + 250);
  });

  it('backs off as socket.io-client after a first drop (1 s · 2^n ± 50 %, ≤ 5 s) and with full jitter after later ones (≤ min(30 s, 1 s · 2^n))', () => {
    expect([1, 2, 3].map(policyForDrop)).toEqual(['socketio', 'full-jitter', 'full-jitter']);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        const d = reconnectDelayMs('socketio', n, r);
        expect(d).toBeGreaterThanOrEqual(Math.min(500 * 2 ** n, 5000) - 1);
        expect(d).toBeLessThanOrEqual(5000);
        const j = reconnectDelayMs('full-jitter', n, r);
        expect(j).toBeGreaterThanOrEqual(0);
        expect(j).toBeLessThanOrEqual(Math.min(30_000, 1000 * 2 ** n));
      }),
    );
  });

  it('reads the WSB_* environment and names what is missing or wrong', () => {
    const env = { WSB_URL: 'ws://127.0.0.1:1', WSB_TOKENS_FILE: '/t.json', WSB_PLAN: JSON.stringify(plan), WSB_THRESHOLDS: '{"a":["count>=0"]}' };
    expect(readEnv(env, 'cross-node-broadcast')).toMatchObject({ protocol: 'socketio', summaryJson: null, thresholds: { a: ['count>=0'] }, plan: { rooms: 4 } });
    expect(() => readEnv({ ...env, WSB_URL: undefined }, 'cross-node-broadcast')).toThrow(/WSB_URL is not set/);
    expect(() => readEnv({ ...env, WSB_PLAN: '{' }, 'cross-node-broadcast')).toThrow(/WSB_PLAN is not valid JSON/);
    expect(() => readEnv(env, 'connection-capacity')).toThrow(/WSB_PLAN is for cross-node-broadcast, this script is connection-capacity/);
    expect(() => readEnv({ ...env, WSB_PROTOCOL: 'mqtt' }, 'cross-node-broadcast')).toThrow(/WSB_PROTOCOL/);
  });
});

describe('k6 script ReceiverLedger', () => {
  it('classifies arrivals as the Node engine’s ledger does: new, reordered, duplicate, unexpected', () => {
    const l = new ReceiverLedger();
    expect(l.record(1, 0, 10)).toEqual({ kind: 'new', firstOfStream: true });
    expect(l.record(1, 2, 10)).toEqual({ kind: 'new', firstOfStream: false });
    expect(l.record(1, 1, 10)).toEqual({ kind: 'reordered', firstOfStream: false });
    expect(l.record(1, 1, 10)).toEqual({ kind: 'duplicate', firstOfStream: false });
    expect(l.record(1, 10, 10)).toEqual({ kind: 'unexpected', firstOfStream: false });
    expect(l.record(1, 1.5, 10)).toEqual({ kind: 'unexpected', firstOfStream: false });
    expect(l.record(2, 5, 10)).toEqual({ kind: 'new', firstOfStream: true });
    expect(l.streamCount).toBe(2);
  });

  it('counts every distinct expected seq once as received, whatever the arrival order and repetitions', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 19 }), { maxLength: 80 }), (seqs) => {
        const l = new ReceiverLedger();
        let received = 0;
        let dup = 0;
        for (const s of seqs) {
          const k = l.record(0, s, 20).kind;
          if (k === 'new' || k === 'reordered') received++;
          if (k === 'duplicate') dup++;
        }
        expect(received).toBe(new Set(seqs).size);
        expect(dup).toBe(seqs.length - new Set(seqs).size);
      }),
    );
  });
});
