import { describe, expect, it } from 'vitest';
import { connectUrl, decodeFrame, encodeDisconnect, encodeEvent } from './wire.js';

describe('k6 script wire protocol: socketio (Engine.IO v4 / Socket.IO v5 by hand)', () => {
  const d = (f: string) => decodeFrame('socketio', f, 'TOKEN');

  it('builds the Engine.IO WebSocket URL from an http or ws base', () => {
    expect(connectUrl('socketio', 'http://127.0.0.1:8080', 't')).toBe('ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket');
    expect(connectUrl('socketio', 'ws://127.0.0.1:8080/', 't')).toBe('ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket');
  });

  it('answers open with a CONNECT carrying the token, and ping with pong', () => {
    expect(d('0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')).toEqual({ kind: 'open', reply: '40{"token":"TOKEN"}' });
    expect(d('2')).toEqual({ kind: 'ping', reply: '3' });
  });

  it('decodes CONNECT ack, CONNECT_ERROR, events, acks and disconnects', () => {
    expect(d('40{"sid":"abc"}')).toEqual({ kind: 'connected', sid: 'abc' });
    expect(d('44{"message":"unauthorized: ERR_JWS_INVALID"}')).toEqual({ kind: 'connect_error', message: 'unauthorized: ERR_JWS_INVALID' });
    expect(d('42["welcome",{"nodeId":"node-2","sid":"abc"}]')).toEqual({ kind: 'event', event: 'welcome', data: { nodeId: 'node-2', sid: 'abc' } });
    expect(d('42["msg",{"room":"room-1","payload":{"pub":0,"seq":3,"t":1,"n":"node-1"}}]')).toMatchObject({ kind: 'event', event: 'msg' });
    expect(d('4217["srv",{"a":1}]')).toEqual({ kind: 'event', event: 'srv', data: { a: 1 } });
    expect(d('4312[{"ok":true,"nodeId":"node-1","members":3}]')).toEqual({ kind: 'ack', id: 12, data: { ok: true, nodeId: 'node-1', members: 3 } });
    expect(d('41')).toEqual({ kind: 'disconnect' });
    expect(d('1')).toEqual({ kind: 'disconnect' });
  });

  it('ignores other namespaces, noops, binary and garbage', () => {
    for (const f of ['40/admin,{"sid":"x"}', '6', '451-["x",{"_placeholder":true,"num":0}]', '42not json', '43[1]', '']) expect(d(f)).toEqual({ kind: 'ignore' });
  });

  it('encodes events, events asking for an ack, and DISCONNECT', () => {
    expect(encodeEvent('socketio', 'publish', { room: 'r', payload: { pub: 1 } })).toBe('42["publish",{"room":"r","payload":{"pub":1}}]');
    expect(encodeEvent('socketio', 'join', { room: 'r' }, 7)).toBe('427["join",{"room":"r"}]');
    expect(encodeDisconnect('socketio')).toBe('41');
  });
});

describe('k6 script wire protocol: ws (the ws/Bun variants’ JSON frames)', () => {
  const d = (f: string) => decodeFrame('ws', f, 'TOKEN');

  it('puts the token in the /ws URL', () => {
    expect(connectUrl('ws', 'http://127.0.0.1:8080', 'a.b+c')).toBe('ws://127.0.0.1:8080/ws?token=a.b%2Bc');
  });

  it('encodes {type, id?, data} and decodes events and acks', () => {
    expect(encodeEvent('ws', 'join', { room: 'r' }, 7)).toBe('{"type":"join","id":7,"data":{"room":"r"}}');
    expect(encodeEvent('ws', 'publish', { room: 'r' })).toBe('{"type":"publish","data":{"room":"r"}}');
    expect(encodeDisconnect('ws')).toBeNull();
    expect(d('{"type":"welcome","data":{"nodeId":"node-3","sid":"s"}}')).toEqual({ kind: 'event', event: 'welcome', data: { nodeId: 'node-3', sid: 's' } });
    expect(d('{"type":"ack","id":7,"data":{"ok":true}}')).toEqual({ kind: 'ack', id: 7, data: { ok: true } });
    for (const f of ['[]', 'nope', '{"id":1}', '{"type":"ack"}']) expect(d(f)).toEqual({ kind: 'ignore' });
  });
});
