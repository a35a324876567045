/**
 * The send-buffer limit (`--max-buffered-bytes`) for the socket.io variant. A client that stops
 * reading its socket fills the kernel buffers first; after that engine.io keeps every further packet
 * in the connection's `writeBuffer` (it hands the transport one batch at a time and waits for it to
 * be written), in memory, without bound. Socket.IO has no option for this, so the guard counts what
 * waits there (plus what the `ws` socket still holds) and drops the connection past the limit.
 *
 * The ws variant checks `ws.bufferedAmount` after each send (ws-server.ts); Bun has the limit built
 * in (`backpressureLimit` + `closeOnBackpressureLimit`, bun-server.ts).
 */

/** The part of an engine.io Socket (`socket.conn`) the guard uses. */
export interface EngineConn {
  transport: unknown;
  on(event: 'packetCreate', cb: (packet: { data?: unknown }) => void): unknown;
  on(event: 'flush', cb: () => void): unknown;
  close(discard?: boolean): unknown;
}

/** Bytes of one engine.io packet's data (string length: UTF-16 units, equal to bytes for ASCII). */
export function packetBytes(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/** The `ws` WebSocket under an engine.io websocket transport, if that is what it is. */
function wsOf(transport: unknown): { bufferedAmount?: number; terminate?: () => void } | undefined {
  const socket = (transport as { socket?: unknown } | null)?.socket;
  return typeof socket === 'object' && socket !== null ? (socket as { bufferedAmount?: number; terminate?: () => void }) : undefined;
}

/**
 * Watches one engine.io connection: once the bytes queued for it exceed `limit`, calls `onDrop`
 * once and terminates the transport (no close frame: it would wait behind the backlog), which frees
 * the queue at once; socket.io then reports the disconnect as `transport close`.
 */
export function guardEngineSocket(conn: EngineConn, limit: number, onDrop: () => void): void {
  // Bytes in writeBuffer: packets are counted as they are created; a flush hands all of them to the transport.
  let queued = 0;
  let dropped = false;
  conn.on('flush', () => {
    queued = 0;
  });
  conn.on('packetCreate', (packet) => {
    if (dropped) return;
    queued += packetBytes(packet.data);
    const ws = wsOf(conn.transport);
    if (queued + (ws?.bufferedAmount ?? 0) <= limit) return;
    dropped = true;
    onDrop();
    // After the current sendPacket call (which is about to push this packet): terminate, not close.
    queueMicrotask(() => {
      if (typeof ws?.terminate === 'function') ws.terminate();
      else conn.close(true);
    });
  });
}
