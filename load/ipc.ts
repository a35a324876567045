import type { ClientTls } from '../common/tls.js';
import type { Accounting } from '../model/run-report.js';
import type { Assignment } from './room-plan.js';
import type { ProtocolProfile } from '../config/protocol.js';
import type { ReconnectPolicy } from './reconnect-policy.js';

/** A span of CLOCK_MONOTONIC µs; `endUs` null while still open. */
export type Span = [startUs: number, endUs: number | null];

/** What the coordinator tells a worker process. */
export type ToWorker =
  | {
      type: 'init';
      workerId: number;
      url: string;
      /** How to speak to the nodes (config/protocol.ts): the reference profile of the variant, or the user's. */
      profile: ProtocolProfile;
      /** `profile` is a reference profile (REFERENCE_PROFILES). */
      reference: boolean;
      /** The run's JWT secret (for a profile's `jwt` without its own `secret`). */
      jwtSecret: string;
      /** Upstream port → node id: the node from the load balancer's `X-Wsbench-Upstream` header. */
      nodePorts?: Record<string, string>;
      /** Global client ids this worker holds, with their source addresses. */
      clients: Array<{ id: number; localAddress: string }>;
      /** Connections per second this worker opens (its share of the ramp). */
      connectRate: number;
      connectTimeoutMs: number;
      reconnect: ReconnectPolicy;
      /** Calibration: busy CPU µs per received message. */
      receiveCostUs: number;
      /**
       * Calibration (`wsbench calibrate --wire`): every `every`-th arrival's receive time is written,
       * at collect, to `<path>.worker-<id>.json` (calibrate/receive-log.ts). Absent: off.
       */
      receiveLog?: { path: string; every: number };
      /** Socket.IO connection state recovery: reconnecting clients ask to resume their session. */
      recover?: boolean;
      /** wss:// with a CA file or without verification (`--url` with `tls`); absent: the system's CAs. */
      tls?: ClientTls;
    }
  | { type: 'connect' }
  | { type: 'join'; assignments: Assignment[] }
  | { type: 'set-reconnect'; reconnect: ReconnectPolicy }
  | { type: 'disconnections' }
  | { type: 'stats' }
  | { type: 'hold'; durationMs: number; pingIntervalMs: number }
  | {
      type: 'publish';
      /** CLOCK_MONOTONIC µs of the first intended send. */
      startUs: number;
      /** Latencies of messages intended before this are warm-up and not recorded. */
      measureFromUs: number;
      /** No message is intended at or after this. */
      endUs: number;
      /**
       * The pump stops here (the run's end): a message not out of the publisher by then (still
       * queued, or never pumped because the publisher was stalled) is never sent.
       */
      deadlineUs: number;
      /** The run's end (measured phase + drain): a message the pump sends after it is an overrun. */
      runEndUs: number;
      /** Messages per second per publisher. */
      rate: number;
      /** Publishers this worker drives, with their stagger offset inside one interval (0..1). */
      publishers: Array<{ id: number; pub: number; room: string; phase: number }>;
      /** Extra payload bytes (padding) per message. */
      payloadBytes: number;
      /**
       * Calibration: the pump sends nothing in [startUs, endUs) (CLOCK_MONOTONIC µs); what falls due
       * meanwhile goes out at endUs with its intended time. The receive path keeps running.
       */
      stall?: { startUs: number; endUs: number };
    }
  | {
      type: 'collect';
      /** Every publisher of the run: its schedule, what it sent and when it was disconnected. */
      publishers: PublisherReport[];
      measureFromUs: number;
      /** Windows to account separately (before / during / after each fault). */
      windows: Array<{ name: string; startUs: number; endUs: number }>;
      /** Faults: a delivery intended inside one and received after its end is *late*. */
      faults: Array<{ startUs: number; endUs: number }>;
      /**
       * A lost message intended up to this long before a disconnection still counts as lost
       * while disconnected (it was in flight when the connection died).
       */
      inflightMarginUs: number;
    }
  | { type: 'close' };

export interface PublisherReport {
  pub: number;
  room: string;
  /** Node the publisher sat on when publishing began. */
  nodeId: string;
  /** Messages emitted: seqs [0, sent), queued-then-flushed ones included. */
  sent: number;
  /** Messages the schedule intended (before endUs): seqs [0, scheduled). Every one is expected. */
  scheduled: number;
  /** Messages the pump sent only after the run's end (runEndUs): the generator was behind its schedule. */
  overrun: number;
  /** Intended time of seq 0 (µs); seq k was intended at t0Us + k·intervalUs. */
  t0Us: number;
  intervalUs: number;
  /** Spans during which the publisher was disconnected. */
  down: Span[];
  /** Messages queued while disconnected and flushed after reconnecting. */
  queued: number;
  /** Messages still queued when publishing ended (never sent; expected, so lost as `neverSent`). */
  unflushed: number;
}

export interface ConnectResult {
  id: number;
  nodeId: string | null;
  /** µs from dial to Socket.IO CONNECT ack. */
  connectUs: number;
  error?: string;
  errorMessage?: string;
}

export interface WorkerTick {
  type: 'tick';
  workerId: number;
  /** CLOCK_MONOTONIC µs at the end of this second. */
  atUs: number;
  sent: number;
  received: number;
  connections: number;
  /** Clients that stopped reconnecting (a server-ended disconnect, or out of tries): they will not be back. */
  gaveUp?: number;
  /** Encoded HDR histogram of this second's latencies (µs). */
  hdr: string;
  /** Stray arrivals so far (another room's message, or at a non-member). */
  strays: number;
  cpuPercent: number;
  lagP99Ms: number;
  /** Frames received that the coordinator has not seen yet (the worker's first few, raw, truncated). */
  frames?: string[];
}

/** One disconnection of one client, from the close to the rejoin. */
export interface Disconnection {
  id: number;
  role: 'member' | 'publisher' | null;
  downUs: number;
  /** Rejoined (members) or reconnected (publishers); null if it never came back. */
  upUs: number | null;
  attempts: number;
  failedAttempts: number;
  code: number;
  reason: string;
  nodeBefore: string | null;
  nodeAfter: string | null;
  /** The server resumed the client's Socket.IO session (connection state recovery): no rejoin needed. */
  recovered: boolean;
  /** Events the server replayed on resuming it (received before the CONNECT ack). */
  replayed: number;
}

export interface LossClasses {
  /** Lost although the receiver was connected and the publisher too: the cluster's failure. */
  lostConnected: number;
  /** Lost while the receiver was disconnected (or its messages were in flight then). */
  lostDisconnected: number;
  /** Lost because the publisher's own connection was down when it sent. */
  lostPublisherDown: number;
  /** Scheduled but never left the publisher (still queued at the end, or never pumped: stalled). */
  neverSent: number;
  /** Received, but intended during a fault and arrived after it ended. */
  late: number;
}

/** Delivery counts attributed to one node (as receivers' node, or as publishers' node). */
export interface NodeCounts {
  expected: number;
  lost: number;
  /** Of `lost`: never left the publisher. */
  neverSent: number;
  /** Received, but intended during a fault and arrived after it ended. */
  late: number;
}

/** Per node id, by receiving node (`rx`) and by publishing node (`px`). */
export interface NodeTallies {
  rx: Record<string, NodeCounts>;
  px: Record<string, NodeCounts>;
}

export interface WorkerResults {
  type: 'results';
  workerId: number;
  hdr: { all: string; same: string; cross: string; queued: string; replayed: string };
  accounting: { total: Accounting; sameNode: Accounting; crossNode: Accounting; unexpected: number };
  losses: { total: LossClasses; sameNode: LossClasses; crossNode: LossClasses };
  /** Expected / lost / late deliveries per receiving and per publishing node. */
  perNode: NodeTallies;
  /** Receivers that lost a message while connected (first few, for the report). */
  lostConnectedSamples: Array<{ receiver: number; pub: number; seq: number; node: string | null }>;
  windows: Array<{ name: string; accounting: Accounting; sameNode: Accounting; crossNode: Accounting; perNode: NodeTallies }>;
  /**
   * Per intended second (relative to measureFrom): latency histogram, same/cross arrivals, and the
   * latency by receiving (`rx`) and publishing (`px`) node id.
   */
  perSecond: Array<{ s: number; hdr: string; same: number; cross: number; rx: Record<string, string>; px: Record<string, string> }>;
  disconnections: Disconnection[];
  /** Cross-node arrivals per 100 ms of arrival time: [floor(µs / 100,000), count]. */
  crossArrivalBins: Array<[number, number]>;
  disconnects: number;
  clockAnomalies: number;
  /** Timed arrivals whose latency exceeded the histogram's 120 s and were recorded as 120 s. */
  latencyClamped?: number;
  health: {
    cpuPercent: number[];
    lagP99Ms: number[];
    /** CPU µs this worker spent per delivery over the measured window (everything it did, divided). */
    cpuPerDeliveryUs: number | null;
    /** Deliveries one broadcast lands on this worker (mean over rooms with a publisher). */
    burstSize: number;
  };
}

/** What a worker tells the coordinator. */
export type FromWorker =
  | { type: 'ready'; workerId: number }
  | { type: 'connected'; workerId: number; results: ConnectResult[]; frames?: string[] }
  | { type: 'joined'; workerId: number; failures: Array<{ id: number; room: string; error: string }>; frames?: string[] }
  | { type: 'reconnect-set'; workerId: number }
  | { type: 'disconnections'; workerId: number; list: Disconnection[] }
  | { type: 'stats'; workerId: number; rssBytes: number; heapUsedBytes: number; connected: number }
  | { type: 'held'; workerId: number; pingsOk: number; pingsFailed: number; pingHdr: string; connectedAtEnd: number; disconnects: number }
  | {
      type: 'published';
      workerId: number;
      publishers: PublisherReport[];
      lateSends: number;
      /** Calibration (publish `stall`): when the pump ran again after the stall (CLOCK_MONOTONIC µs). */
      stallResumedUs?: number;
    }
  | WorkerTick
  | WorkerResults
  | { type: 'error'; workerId: number; message: string };
