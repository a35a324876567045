/**
 * The JSON wire protocol of the ws and Bun reference servers: one JSON object per WebSocket text
 * frame. Same application meaning as the Socket.IO variant's events.
 *
 * Client → server:  {"type":<event>,"data":<any>}            fire and forget
 *                   {"type":<event>,"id":<n>,"data":<any>}   `id` (integer 0…2^53) asks for an ack
 * Server → client:  {"type":"ack","id":<n>,"data":<reply>}   the reply to the frame with that id
 *                   {"type":<event>,"data":<any>}            events
 *
 * Events (client → server; replies as acks):
 *   join      {room}            → {ok:true,nodeId,members} | {ok:false,error:'forbidden'|'room_full'|'rate_limited'|'bad_request'}
 *   leave     {room}            → {ok:true,nodeId} | {ok:false,error:'bad_request'}
 *   publish   {room,payload}    → {ok:true} | {ok:false,error:'rate_limited'|'forbidden'|'bad_request'}
 *   direct    {to,payload}      → {ok:true} | {ok:false,error:'rate_limited'|'bad_request'}      (seed 002 user channels)
 *   broadcast {payload}         → {ok:true} | {ok:false,error:'rate_limited'|'forbidden'|'bad_request'} (global channel; `rooms:["*"]` tokens only)
 *   ping      {t?}              → {nodeId,t}
 *   anything else               → {ok:false,error:'unknown_event'}
 * Events (server → client):
 *   welcome         {nodeId,sid}                     first frame after the upgrade
 *   msg             {room,payload}                   a room message, payload untouched
 *   dm              {from,payload}                   a direct message to this connection's user (token `sub`)
 *   broadcast       {from,payload}                   a global message
 *   server_shutdown {nodeId,reconnectDelay:5000}     the node is stopping; it closes with 1001 after the grace period
 *   error           {error:'bad_request'}            a frame that is not a JSON object with a string `type`
 *
 * The connection is opened at `/ws?token=<JWT>` (or with `Authorization: Bearer <JWT>`); a missing or
 * invalid token is refused with HTTP 401 before the upgrade. A frame over `--max-payload` bytes
 * closes the connection with 1009.
 */

/** WebSocket endpoint path. */
export const WS_PATH = '/ws';
/** Close code for a frame over the size limit (RFC 6455 "message too big"). */
export const CLOSE_TOO_BIG = 1009;
/** Close code of a graceful node shutdown (RFC 6455 "going away"). */
export const CLOSE_GOING_AWAY = 1001;

export interface ClientFrame {
  type: string;
  /** Present when the client wants an ack. */
  id: number | undefined;
  data: unknown;
}

/** Parses one client text frame; null when it is not a JSON object with a string `type`. */
export function parseClientFrame(text: string): ClientFrame | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as { type?: unknown; id?: unknown; data?: unknown };
  if (typeof o.type !== 'string') return null;
  const id = Number.isSafeInteger(o.id) && (o.id as number) >= 0 ? (o.id as number) : undefined;
  return { type: o.type, id, data: o.data };
}

/** `{"type":<type>,"data":<data>}` */
export function eventFrame(type: string, data: unknown): string {
  return data === undefined ? JSON.stringify({ type }) : JSON.stringify({ type, data });
}

/** `{"type":"ack","id":<id>,"data":<data>}` */
export function ackFrame(id: number, data: unknown): string {
  return JSON.stringify({ type: 'ack', id, data });
}
