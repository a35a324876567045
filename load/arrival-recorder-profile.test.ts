import { describe, expect, it } from 'vitest';
import { nowUs } from '../common/clock.js';
import { ArrivalRecorder } from './arrival-recorder.js';

const stamp = (pub: number, seq: number, t: number) => ({ pub, seq, t, n: 'node-1' });

describe('ArrivalRecorder with a protocol profile (onStamp)', () => {
  it('a room the profile does not locate is not a leak at a member; a located other room is', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs();
    const m = { id: 1, nodeId: 'node-1', room: 'r', role: 'member' as const };
    rec.onStamp(m, undefined, stamp(0, 0, t0));
    rec.onStamp(m, 'other', stamp(0, 1, t0));
    expect(rec.strays).toBe(1);
    expect(rec.takeSecond().received).toBe(1);
  });

  it('echo: a publisher receives its own stream; another publisher’s message at it is a stray', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs();
    const p = { id: 2, nodeId: 'node-1', room: 'r', role: 'publisher' as const, echoPub: 7 };
    rec.onStamp(p, 'r', stamp(7, 0, t0));
    rec.onStamp(p, 'r', stamp(8, 0, t0));
    expect(rec.strays).toBe(1);
    expect(rec.takeSecond().received).toBe(1);
  });

  it('publish.join: a publisher in its room receives the others’ messages, its own only with echo', () => {
    const rec = new ArrivalRecorder();
    const t0 = nowUs();
    const p = { id: 3, nodeId: 'node-1', room: 'r', role: 'publisher' as const, joinedPub: 7 };
    rec.onStamp(p, 'r', stamp(8, 0, t0)); // another publisher of its room: a delivery
    rec.onStamp(p, 'r', stamp(7, 0, t0)); // its own, without echo: a stray
    rec.onStamp(p, 'x', stamp(9, 0, t0)); // another room: a stray
    expect(rec.strays).toBe(2);
    const q = { id: 4, nodeId: 'node-1', room: 'r', role: 'publisher' as const, joinedPub: 5, echoPub: 5 };
    rec.onStamp(q, 'r', stamp(5, 0, t0));
    expect(rec.strays).toBe(2);
    expect(rec.takeSecond().received).toBe(2);
  });
});
