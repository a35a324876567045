/**
 * The reference servers' two wire protocols, framed by hand for k6 (pure functions: no k6 or Node
 * imports, so vitest tests them and k6 runs them).
 *
 * `socketio` — Engine.IO v4 + Socket.IO v5 over a raw WebSocket (as load/sio-client.ts speaks it
 * on Node, and fixtures/k6/scripts/socketio-*.js in k6):
 *   Engine.IO: `0{…}` open (server's first frame) → we send `40{"token":…}` (Socket.IO CONNECT with
 *   auth); `2` ping → answer `3`; `1` close; `4…` message carrying one Socket.IO packet.
 *   Socket.IO: `40{"sid":…}` CONNECT ack, `44{"message":…}` CONNECT_ERROR, `41` DISCONNECT,
 *   `42["event",data]` EVENT, `42<id>["event",data]` EVENT wanting ack `<id>`, `43<id>[data]` ACK.
 *   Default namespace only; binary packets are ignored.
 *
 * `ws` — the ws/Bun variants' JSON frames (reference-server/json-wire.ts): the token rides in the
 *   URL (`/ws?token=<JWT>`); `{"type":<event>,"data":…}` events both ways, `{"type":<event>,"id":n,
 *   "data":…}` asks for `{"type":"ack","id":n,"data":…}`.
 */

export type Protocol = 'socketio' | 'ws';

/** What one received frame means to the client. */
export type Incoming =
  /** Engine.IO open: the client must now send `reply` (the Socket.IO CONNECT with the token). */
  | { kind: 'open'; reply: string }
  /** Engine.IO ping: answer with `reply` (`3`). */
  | { kind: 'ping'; reply: string }
  /** Socket.IO CONNECT ack (the `welcome` event follows). */
  | { kind: 'connected'; sid: string }
  | { kind: 'connect_error'; message: string }
  | { kind: 'event'; event: string; data: unknown }
  | { kind: 'ack'; id: number; data: unknown }
  /** The server ends the session (Socket.IO DISCONNECT or Engine.IO close). */
  | { kind: 'disconnect' }
  /** Anything else (noop, binary, unknown): ignored. */
  | { kind: 'ignore' };

/** The WebSocket URL for `base` (`ws://host:port` or `http://host:port`), with the token where the protocol wants it. */
export function connectUrl(protocol: Protocol, base: string, token: string): string {
  const root = base.replace(/^http(s?):\/\//, 'ws$1://').replace(/\/+$/, '');
  if (protocol === 'socketio') return `${root}/socket.io/?EIO=4&transport=websocket`;
  return `${root}/ws?token=${encodeURIComponent(token)}`;
}

/** An event frame; with `ackId`, one that asks for an ack with that id. */
export function encodeEvent(protocol: Protocol, event: string, data: unknown, ackId?: number): string {
  if (protocol === 'socketio') return `42${ackId === undefined ? '' : ackId}${JSON.stringify([event, data])}`;
  return JSON.stringify(ackId === undefined ? { type: event, data } : { type: event, id: ackId, data });
}

/** The frame that ends the session politely (Socket.IO DISCONNECT); null when the protocol has none. */
export function encodeDisconnect(protocol: Protocol): string | null {
  return protocol === 'socketio' ? '41' : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function decodeSocketIo(frame: string, token: string): Incoming {
  const eio = frame.charAt(0);
  if (eio === '0') return { kind: 'open', reply: `40${JSON.stringify({ token })}` };
  if (eio === '2') return { kind: 'ping', reply: '3' };
  if (eio === '1') return { kind: 'disconnect' };
  if (eio !== '4') return { kind: 'ignore' };
  const type = frame.charAt(1);
  let rest = frame.slice(2);
  // A namespace other than "/" (`40/admin,…`) is not ours.
  if (rest.charAt(0) === '/') return { kind: 'ignore' };
  switch (type) {
    case '0': {
      const v = parseJson(rest) as { sid?: unknown } | undefined;
      return { kind: 'connected', sid: typeof v?.sid === 'string' ? v.sid : '' };
    }
    case '4': {
      const v = parseJson(rest) as { message?: unknown } | undefined;
      return { kind: 'connect_error', message: typeof v?.message === 'string' ? v.message : rest };
    }
    case '1':
      return { kind: 'disconnect' };
    case '2':
    case '3': {
      const m = /^(\d*)/.exec(rest);
      const digits = m ? m[1] : '';
      rest = rest.slice(digits.length);
      const arr = parseJson(rest);
      if (!Array.isArray(arr)) return { kind: 'ignore' };
      if (type === '3') return digits ? { kind: 'ack', id: Number(digits), data: arr[0] } : { kind: 'ignore' };
      // Server events that ask for an ack are delivered without acking them (as load/sio-client.ts does).
      return typeof arr[0] === 'string' ? { kind: 'event', event: arr[0], data: arr[1] } : { kind: 'ignore' };
    }
    default:
      return { kind: 'ignore' };
  }
}

function decodeJsonWire(frame: string): Incoming {
  const v = parseJson(frame);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { kind: 'ignore' };
  const o = v as { type?: unknown; id?: unknown; data?: unknown };
  if (typeof o.type !== 'string') return { kind: 'ignore' };
  if (o.type === 'ack') return typeof o.id === 'number' ? { kind: 'ack', id: o.id, data: o.data } : { kind: 'ignore' };
  return { kind: 'event', event: o.type, data: o.data };
}

/** Decodes one text frame. `token` is what the Socket.IO CONNECT reply carries. */
export function decodeFrame(protocol: Protocol, frame: string, token: string): Incoming {
  return protocol === 'socketio' ? decodeSocketIo(frame, token) : decodeJsonWire(frame);
}
