import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ackFrame, eventFrame, parseClientFrame } from './json-wire.js';

describe('parseClientFrame', () => {
  it('reads type, optional ack id and data', () => {
    expect(parseClientFrame('{"type":"join","id":7,"data":{"room":"r"}}')).toEqual({ type: 'join', id: 7, data: { room: 'r' } });
    expect(parseClientFrame('{"type":"publish","data":{"room":"r","payload":1}}')).toEqual({ type: 'publish', id: undefined, data: { room: 'r', payload: 1 } });
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ type: 'ping', id: undefined, data: undefined });
  });

  it('ignores ids that are not non-negative safe integers', () => {
    for (const id of ['"7"', '-1', '1.5', '1e300', 'null']) expect(parseClientFrame(`{"type":"ping","id":${id}}`)?.id).toBeUndefined();
  });

  it('rejects what is not a JSON object with a string type', () => {
    for (const text of ['', 'nope', '[]', '"join"', '{"type":1}', '{"data":{}}', 'null', '{"type":"x"']) expect(parseClientFrame(text)).toBeNull();
  });

  it('round-trips what the server would send back (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), fc.jsonValue(), (type, id, data) => {
        const ev = JSON.parse(eventFrame(type, data)) as { type: string; data?: unknown };
        expect(ev.type).toBe(type);
        expect(ev.data).toEqual(JSON.parse(JSON.stringify(data)));
        const ack = JSON.parse(ackFrame(id, data)) as { type: string; id: number };
        expect([ack.type, ack.id]).toEqual(['ack', id]);
        // a client frame of the same shape parses back
        expect(parseClientFrame(JSON.stringify({ type, id, data }))).toEqual({ type, id, data: JSON.parse(JSON.stringify(data)) });
      }),
    );
  });
});
