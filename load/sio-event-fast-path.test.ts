/**
 * The Socket.IO client's receive fast path (load/sio-client.ts `simpleEventArgs`): it must read
 * exactly what the general path reads, or decline (null) and leave the frame to it.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SioClient, resetSimpleEventMisses, simpleEventArgs } from './sio-client.js';

/** What the general path makes of an EVENT frame `42<json>` with no namespace and no ack id. */
function general(msg: string): unknown[] | null {
  try {
    const args: unknown = JSON.parse(msg.slice(2));
    return Array.isArray(args) && typeof args[0] === 'string' ? args : null;
  } catch {
    return null;
  }
}

afterEach(() => resetSimpleEventMisses());

describe('simpleEventArgs', () => {
  it('reads a one-argument event as the general path does', () => {
    const frame = '42["msg",{"room":"r1","payload":{"pub":1,"seq":7,"t":123456789,"n":"node-2"}}]';
    expect(simpleEventArgs(frame)).toEqual(['msg', { room: 'r1', payload: { pub: 1, seq: 7, t: 123456789, n: 'node-2' } }]);
    expect(simpleEventArgs(frame)).toEqual(general(frame));
  });

  it('reads any one JSON value, keys in any order, whitespace inside, brackets and commas inside strings', () => {
    for (const frame of [
      '42["msg",{"payload":{"n":"node-1","t":5,"seq":2,"pub":0},"room":"r9"}]',
      '42["msg", {"room" : "r1"} ]',
      '42["msg","a,b]"]',
      '42["msg",[1,[2,3]]]',
      '42["msg",null]',
      '42["msg",-0.5e3]',
      '42["a]",1]',
      '42["",1]',
      '42["mß",true]',
      '42["msg",{"__proto__":{"x":1}}]',
    ]) {
      const fast = simpleEventArgs(frame);
      expect(fast, frame).not.toBeNull();
      expect(fast, frame).toEqual(general(frame));
    }
  });

  it('declines every other shape (the general path reads it, or drops it)', () => {
    for (const frame of [
      '42["msg",{"a":1},"1712345678901-0"]', // two arguments (a recovery offset)
      '42["msg"]', // no argument
      '42["msg",]',
      '42["msg",{"a":1}', // no closing bracket
      '42["msg",{"a":1}]]',
      '42["msg",{"a":1}] ', // trailing space after the array
      '42["msg",1],["x",2]',
      '42["m\\"sg",1]', // escaped quote in the name
      '42["m\\u0073g",1]', // escaped char in the name
      '42["ms\u0001g",1]', // raw control character in the name
      '42[ "msg",1]',
      '42["msg" ,1]',
      '42/chat,["msg",1]', // namespace
      '4217["msg",1]', // ack id
      '43["msg",1]', // ACK
      '40{"sid":"x"}',
      '42[1,2]',
      '42{"a":1}',
      '42["msg',
      '42["',
      '42[',
      '42',
      '4',
      '',
    ]) {
      expect(simpleEventArgs(frame), frame).toBeNull();
    }
    // Of those, the general path still reads the two-argument one, the trailing space and the escapes.
    expect(general('42["msg",{"a":1},"1712345678901-0"]')).toEqual(['msg', { a: 1 }, '1712345678901-0']);
    expect(general('42["m\\u0073g",1]')).toEqual(['msg', 1]);
  });

  it('property: whatever follows `42`, a non-null result is the general path’s, a one-argument array', () => {
    const json = fc.jsonValue().map((v) => JSON.stringify(v));
    const frame = fc.oneof(
      // Well-formed one-argument events, names with escapes or odd characters included.
      fc.tuple(fc.string(), json).map(([e, v]) => `42[${JSON.stringify(e)},${v}]`),
      // Several arguments.
      fc.tuple(fc.string(), fc.array(json, { minLength: 0, maxLength: 3 })).map(([e, vs]) => `42${JSON.stringify([e, ...vs.map((v) => JSON.parse(v) as unknown)])}`),
      // Arbitrary text after the prefix, and corrupted well-formed frames.
      fc.string().map((s) => `42["msg",${s}`),
      fc.tuple(fc.string(), json, fc.nat(60), fc.string({ maxLength: 3 })).map(([e, v, at, junk]) => {
        const f = `42[${JSON.stringify(e)},${v}]`;
        const i = at % (f.length + 1);
        return f.slice(0, i) + junk + f.slice(i);
      }),
    );
    fc.assert(
      fc.property(frame, (f) => {
        resetSimpleEventMisses();
        const fast = simpleEventArgs(f);
        const gen = general(f);
        if (fast !== null) {
          expect(gen).not.toBeNull();
          expect(fast).toEqual(gen);
          expect(fast.length).toBe(2);
        } else if (gen !== null && gen.length === 2 && f.startsWith(`42[${JSON.stringify(gen[0])},`) && f.endsWith(']') && !JSON.stringify(gen[0]).includes('\\')) {
          // A one-argument event in the plain shape must not be declined.
          throw new Error(`declined ${f}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('is left off after 64 frames it could not read (a profile whose events carry two arguments), until reset', () => {
    for (let i = 0; i < 64; i++) expect(simpleEventArgs(`42["msg",{"seq":${i}},"off-${i}"]`)).toBeNull();
    expect(simpleEventArgs('42["msg",{"seq":1}]')).toBeNull();
    resetSimpleEventMisses();
    expect(simpleEventArgs('42["msg",{"seq":1}]')).toEqual(['msg', { seq: 1 }]);
  });
});

describe('SioClient receive path with the fast path', () => {
  /** A client object in the CONNECTED state (private fields set directly, as bench/micro.ts does). */
  function connectedClient(fullArgs: boolean, seen: Array<[string, unknown]>): SioClient {
    const c = Object.create(SioClient.prototype) as Record<string, unknown>;
    Object.assign(c, { state: 1, early: null, _onEvent: (e: string, d: unknown) => seen.push([e, d]), acks: null, pending: null, token: null, fullArgs, _sid: 'x', unreportedClose: null, csr: null, upstream: null, ws: { send: () => undefined } });
    return c as unknown as SioClient;
  }

  it('delivers the same events, in order, whichever path each frame takes', () => {
    const frames = ['42["msg",{"seq":1}]', '42["msg",{"seq":2},"x"]', '42/,["msg",{"seq":3}]', '42["m\\u0073g",{"seq":4}]', '42["msg",{"seq":5}', '42["welcome",{"nodeId":"n1"}]', '42["msg",{"seq":6}]'];
    for (const fullArgs of [true, false]) {
      const seen: Array<[string, unknown]> = [];
      const c = connectedClient(fullArgs, seen);
      for (const f of frames) SioClient.handleMessage(c as never, Buffer.from(f), false);
      const arg = (seq: number) => (fullArgs ? ['msg', { seq }] : { seq });
      expect(seen).toEqual([
        ['msg', arg(1)],
        ['msg', fullArgs ? ['msg', { seq: 2 }, 'x'] : { seq: 2 }],
        ['msg', arg(3)],
        ['msg', arg(4)],
        ['welcome', fullArgs ? ['welcome', { nodeId: 'n1' }] : { nodeId: 'n1' }],
        ['msg', arg(6)],
      ]);
    }
  });
});
