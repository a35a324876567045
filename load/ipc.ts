import type { Accounting } from '../reports/run-report.js';
import type { Assignment } from './room-plan.js';
import type { WireProtocol } from './protocol-client.js';

/** What the coordinator tells a worker process. */
export type ToWorker =
  | {
      type: 'init';
      workerId: number;
      url: string;
      /** Wire protocol of the server variant under test. */
      protocol: WireProtocol;
      jwtSecret: string;
      /** Global client ids this worker holds, with their source addresses. */
      clients: Array<{ id: number; localAddress: string }>;
      /** Connections per second this worker opens (its share of the ramp). */
      connectRate: number;
      connectTimeoutMs: number;
    }
  | { type: 'connect' }
  | { type: 'join'; assignments: Assignment[] }
  | {
      type: 'publish';
      /** CLOCK_MONOTONIC µs of the first intended send. */
      startUs: number;
      /** Latencies of messages intended before this are warm-up and not recorded. */
      measureFromUs: number;
      /** No message is intended at or after this. */
      endUs: number;
      /** Messages per second per publisher. */
      rate: number;
      /** Publishers this worker drives, with their stagger offset inside one interval (0..1). */
      publishers: Array<{ id: number; pub: number; room: string; phase: number }>;
      /** Extra payload bytes (padding) per message. */
      payloadBytes: number;
    }
  | {
      type: 'collect';
      /** Every publisher of the run with its final sent count and node. */
      publishers: Array<{ pub: number; room: string; nodeId: string; sent: number }>;
    }
  | { type: 'close' };

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
  /** Encoded HDR histogram of this second's latencies (µs). */
  hdr: string;
  cpuPercent: number;
  lagP99Ms: number;
}

/** What a worker tells the coordinator. */
export type FromWorker =
  | { type: 'ready'; workerId: number }
  | { type: 'connected'; workerId: number; results: ConnectResult[] }
  | { type: 'joined'; workerId: number; failures: Array<{ id: number; room: string; error: string }> }
  | { type: 'published'; workerId: number; sent: Array<{ pub: number; sent: number; nodeId: string }>; lateSends: number }
  | WorkerTick
  | {
      type: 'results';
      workerId: number;
      hdr: { all: string; same: string; cross: string };
      accounting: { total: Accounting; sameNode: Accounting; crossNode: Accounting; unexpected: number };
      disconnects: number;
      clockAnomalies: number;
      health: { cpuPercent: number[]; lagP99Ms: number[] };
    }
  | { type: 'error'; workerId: number; message: string };
