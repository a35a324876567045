import { SioClient, SioConnectError, type SioConnectOptions, type SioSession, type ConnectFailureCause } from './sio-client.js';
import { WsClient, type WsConnectOptions } from './ws-client.js';

/** Wire protocol a reference-server variant speaks (bun speaks the ws variant's JSON frames). */
export type WireProtocol = 'socketio' | 'ws';

/**
 * What the load worker needs of a client connection, whatever the wire protocol: the application
 * protocol (`welcome`, `join`/ack, `publish` → `msg`, `ping`) has the same meaning on every variant.
 */
export interface ProtocolClient {
  readonly connected: boolean;
  /** Called with the client as `this`. */
  onEvent: ((event: string, data: unknown) => void) | null;
  /** Called with the client as `this`. */
  onClose: ((code: number, reason: string) => void) | null;
  /** Whatever the client's user ties to it (the worker: its ClientState), for handlers shared by every client. */
  owner: unknown;
  emit(event: string, data?: unknown): boolean;
  emitWithAck(event: string, data: unknown, timeoutMs?: number): Promise<unknown>;
  /** Sends the frame `build(id)` with a fresh ack id; resolves with the ack's data. */
  requestWithAck(build: (id: number) => string, what: string, timeoutMs?: number): Promise<unknown>;
  /** Sends a raw text frame; false when not connected. */
  sendRaw(text: string): boolean;
  /** The load balancer's `X-Wsbench-Upstream` on the upgrade response (`host:port`), else null. */
  readonly upstream: string | null;
  close(): void;
  /** Socket.IO connection state recovery (with `recover`; absent on the JSON protocol): the session to resume later. */
  session?(): SioSession | null;
  /** Whether the server resumed the session given as `recover`. */
  readonly recovered?: boolean;
  /** Events the server replayed on resuming it (delivered first). */
  readonly replayed?: number;
}

export type ClientConnectOptions = SioConnectOptions & Pick<WsConnectOptions, 'rawFrames'>;
export { SioConnectError as ClientConnectError, type ConnectFailureCause, type SioSession };

/** Opens one client connection speaking `protocol`; rejects with ClientConnectError. */
export function connectClient(protocol: WireProtocol, opts: ClientConnectOptions): Promise<ProtocolClient> {
  switch (protocol) {
    case 'socketio':
      return SioClient.connect(opts);
    case 'ws':
      // `path` defaults per protocol: '/socket.io/' for socket.io, '/ws' for the JSON protocol.
      return WsClient.connect(opts);
  }
}
