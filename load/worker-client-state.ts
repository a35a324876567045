import type { LedgerStream } from './delivery-ledger.js';
import type { Disconnection, Span } from './ipc.js';
import type { ProtocolClient, SioSession } from './protocol-client.js';

/** One load client as a worker keeps it (load/worker.ts): its connection, room, role, spans and ledger streams. */
export interface ClientState {
  id: number;
  localAddress: string;
  client: ProtocolClient | null;
  nodeId: string | null;
  /** Node at join time: same-node / cross-node accounting is by the original placement. */
  joinNode: string | null;
  room: string | null;
  role: 'member' | 'publisher' | null;
  /** Spans during which this client was disconnected (or not yet rejoined). */
  down: Span[];
  /** The open disconnection record, while reconnecting. */
  current: Disconnection | null;
  /** Set when we close it ourselves: no reconnection. */
  closing: boolean;
  /** It stopped reconnecting (a server-ended disconnect, or out of tries): it will not be back. */
  gaveUp?: boolean;
  /** Ledger streams (kept by the recorder: Receiver.stream). */
  stream?: LedgerStream;
  streamPub?: number;
  moreStreams?: Map<number, LedgerStream>;
  /** With connection state recovery: the session of the last connection, to resume on reconnect. */
  session: SioSession | null;
  /** With `receive.echo`: this publisher's id (it receives its own messages). */
  echoPub?: number;
  /** With `publish.join`: this publisher's id (it joined its room). */
  joinedPub?: number;
  /** While dialling: resolves the connection's welcome (null once welcomed, or with no welcome in the profile). */
  welcomed: ((w: { nodeId: string | null }) => void) | null;
  /** Events of a resumed session still to be taken as the server's replay. */
  replayLeft: number;
  /** A JSON-frame join waiting for its reply frame. */
  joinWait: ((reply: unknown) => void) | null;
  /** The recorder's cached node index (load/arrival-recorder.ts). */
  rxNode?: number;
  rxNodeOf?: string | null;
}
