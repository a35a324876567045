import { afterEach, describe, expect, it, vi } from 'vitest';
import { CalibrationFaults, SWAP_HOLD_MS, formatCalibrationFault, hookSocketIoAdapter, parseCalibrationFaults } from './calibration-faults.js';
import { parseServerArgs } from './options.js';

/** Feeds `n` broadcasts numbered 0..n-1 for `room` through `f`; returns what was written, in order. */
function feed(f: CalibrationFaults, room: string, n: number, cross = false, out: number[] = []): number[] {
  for (let i = 0; i < n; i++) f.deliver(room, cross, () => out.push(i));
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('parseCalibrationFaults', () => {
  it('reads repeated and comma-separated specs, with and without a room, and formats them back', () => {
    const faults = parseCalibrationFaults(['delay-cross=20', 'drop-every=7:room-3, dup-every=5', 'swap-pairs:room:with:colons']);
    expect(faults).toEqual([
      { kind: 'delay-cross', ms: 20 },
      { kind: 'drop-every', every: 7, room: 'room-3' },
      { kind: 'dup-every', every: 5 },
      { kind: 'swap-pairs', room: 'room:with:colons' },
    ]);
    expect(faults.map(formatCalibrationFault)).toEqual(['delay-cross=20', 'drop-every=7:room-3', 'dup-every=5', 'swap-pairs:room:with:colons']);
    expect(parseCalibrationFaults([])).toEqual([]);
  });

  it('names a bad spec', () => {
    expect(() => parseCalibrationFaults(['drop-every=0'])).toThrow(/drop-every=0/);
    expect(() => parseCalibrationFaults(['delay-cross=70000'])).toThrow(/between 1 and 60000/);
    expect(() => parseCalibrationFaults(['lose-some'])).toThrow(/'lose-some' is not a calibration fault/);
    expect(() => parseCalibrationFaults(['drop-every=x:room-1'])).toThrow(/is not a calibration fault/);
  });

  it('is a reference-server flag, off by default, and a usage error when wrong', () => {
    const base = ['--jwt-secret', 's'];
    expect(parseServerArgs(base).calibrationFaults).toEqual([]);
    expect(parseServerArgs([...base, '--calibration-fault', 'dup-every=5', '--calibration-fault', 'swap-pairs']).calibrationFaults).toEqual([
      { kind: 'dup-every', every: 5 },
      { kind: 'swap-pairs' },
    ]);
    expect(() => parseServerArgs([...base, '--calibration-fault', 'nope'])).toThrow(/--calibration-fault: 'nope'/);
  });
});

describe('CalibrationFaults', () => {
  it('passes everything through unchanged when no fault is set', () => {
    const f = new CalibrationFaults([]);
    expect(f.active).toBe(false);
    expect(feed(f, 'r', 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('drop-every=k drops the k-th, 2k-th, … broadcast of each room, counted per room', () => {
    const f = new CalibrationFaults(parseCalibrationFaults(['drop-every=3']));
    expect(feed(f, 'a', 10)).toEqual([0, 1, 3, 4, 6, 7, 9]);
    // Room b has its own counter.
    expect(feed(f, 'b', 4)).toEqual([0, 1, 3]);
  });

  it('leak-room=k also hands the k-th, 2k-th, … broadcast of a room to the leak path, and still writes it to the members', () => {
    const f = new CalibrationFaults(parseCalibrationFaults(['leak-room=3:room-2']));
    const written: number[] = [];
    const leaked: string[] = [];
    for (let i = 0; i < 7; i++) f.deliver('room-2', false, () => written.push(i), () => leaked.push(`room-2#${i}`));
    for (let i = 0; i < 7; i++) f.deliver('room-1', false, () => written.push(100 + i), () => leaked.push(`room-1#${i}`));
    expect(leaked).toEqual(['room-2#2', 'room-2#5']);
    expect(written).toEqual([0, 1, 2, 3, 4, 5, 6, 100, 101, 102, 103, 104, 105, 106]);
    expect(() => parseCalibrationFaults(['leak-room=0'])).toThrow(/leak-room=0/);
  });

  it('a room-scoped fault leaves the other rooms alone', () => {
    const f = new CalibrationFaults(parseCalibrationFaults(['drop-every=2:room-3']));
    expect(feed(f, 'room-1', 6)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(feed(f, 'room-3', 6)).toEqual([0, 2, 4]);
  });

  it('dup-every=m writes the m-th, 2m-th, … broadcast twice', () => {
    const f = new CalibrationFaults(parseCalibrationFaults(['dup-every=4']));
    expect(feed(f, 'r', 9)).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 7, 7, 8]);
  });

  it('swap-pairs writes 1↔2, 3↔4, …; an unpaired last one goes out alone after SWAP_HOLD_MS', () => {
    vi.useFakeTimers();
    const f = new CalibrationFaults(parseCalibrationFaults(['swap-pairs']));
    const out = feed(f, 'r', 5);
    expect(out).toEqual([1, 0, 3, 2]);
    vi.advanceTimersByTime(SWAP_HOLD_MS - 1);
    expect(out).toEqual([1, 0, 3, 2]);
    vi.advanceTimersByTime(1);
    expect(out).toEqual([1, 0, 3, 2, 4]);
  });

  it('faults apply in the order drop → dup → swap; a dropped broadcast advances no later counter', () => {
    vi.useFakeTimers();
    const f = new CalibrationFaults(parseCalibrationFaults(['drop-every=3,dup-every=2,swap-pairs']));
    // Broadcasts 0..5: drop takes 2 and 5; the survivors 0,1,3,4 are dup-counted 1..4 (1 and 4 doubled); pairs (0,1), (3,4) swap.
    expect(feed(f, 'r', 6)).toEqual([1, 1, 0, 4, 4, 3]);
  });

  it('delay-cross holds cross-node broadcasts (FIFO, never before their due time) and not same-node ones', () => {
    vi.useFakeTimers();
    let nowUs = 1_000_000;
    const f = new CalibrationFaults(parseCalibrationFaults(['delay-cross=20']), () => nowUs);
    const out: string[] = [];
    f.deliver('r', true, () => out.push('x0'));
    nowUs += 5000;
    f.deliver('r', false, () => out.push('s1'));
    f.deliver('r', true, () => out.push('x2'));
    expect(out).toEqual(['s1']);
    // The timers may fire whenever they like: only the clock decides.
    nowUs += 14_999;
    vi.advanceTimersByTime(50);
    expect(out).toEqual(['s1']);
    nowUs += 1;
    vi.advanceTimersByTime(50);
    expect(out).toEqual(['s1', 'x0']);
    nowUs += 5000;
    vi.advanceTimersByTime(50);
    expect(out).toEqual(['s1', 'x0', 'x2']);
  });

  it('after close() nothing held or delayed is written, and new broadcasts pass straight through', () => {
    vi.useFakeTimers();
    const nowUs = 0;
    const f = new CalibrationFaults(parseCalibrationFaults(['delay-cross=5', 'swap-pairs:s']), () => nowUs);
    const out: string[] = [];
    f.deliver('r', true, () => out.push('delayed'));
    f.deliver('s', false, () => out.push('held'));
    f.close();
    vi.advanceTimersByTime(SWAP_HOLD_MS * 2);
    f.deliver('r', true, () => out.push('after'));
    expect(out).toEqual(['after']);
  });
});

describe('hookSocketIoAdapter', () => {
  /** The shape of socket.io-adapter's in-memory broadcast: `_encode` then `apply`. */
  class FakeAdapter {
    rooms = new Map<string, Set<string>>([['room-1', new Set(['sid-a'])]]);
    written: string[] = [];
    broadcast(packet: { data: unknown[] }, opts: { tag: string }): void {
      this.inMemoryBroadcast(packet, opts);
    }
    /** What a remote broadcast reaches directly (the redis adapter calls super.broadcast). */
    inMemoryBroadcast(packet: { data: unknown[] }, opts: { tag: string }): void {
      this._encode(packet, {});
      this.apply(opts, () => this.written.push(opts.tag));
    }
    _encode(packet: unknown, _o: unknown): unknown {
      return packet;
    }
    apply(_opts: unknown, write: (socket: unknown) => void): void {
      write('sid-a');
    }
  }

  it('tells this node’s emits from remote broadcasts, and touches only `msg` packets of rooms with local members', () => {
    const a = new FakeAdapter();
    const seen: Array<[string, boolean]> = [];
    const faults = new CalibrationFaults(parseCalibrationFaults(['drop-every=1:room-1']));
    const deliver = faults.deliver.bind(faults);
    faults.deliver = (room, cross, write) => {
      seen.push([room, cross]);
      deliver(room, cross, write);
    };
    hookSocketIoAdapter(a, faults);
    a.broadcast({ data: ['msg', { room: 'room-1' }] }, { tag: 'local-msg' });
    a.inMemoryBroadcast({ data: ['msg', { room: 'room-1' }] }, { tag: 'remote-msg' });
    a.broadcast({ data: ['welcome', { nodeId: 'n' }] }, { tag: 'other-event' });
    a.broadcast({ data: ['msg', { room: 'room-2' }] }, { tag: 'no-local-members' });
    expect(seen).toEqual([
      ['room-1', false],
      ['room-1', true],
    ]);
    // drop-every=1 dropped both room-1 broadcasts; the rest went through untouched.
    expect(a.written).toEqual(['other-event', 'no-local-members']);
  });
});
