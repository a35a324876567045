import { adapterArgs, type Topology } from './types.js';
import { calibrationFaultArgs } from '../calibrate/faults.js';
import { insecureDisableArgs } from './insecure-checks.js';

/**
 * The command-line arguments of one reference node, whatever the driver: every server option of
 * the topology becomes a flag here, in one place, so the local and docker drivers cannot drift.
 */
export function referenceNodeArgs(t: Topology, o: { port: number; host: string; redisUrl: string; nodeId: string }): string[] {
  const so = t.serverOptions;
  return [
    '--port', String(o.port),
    '--host', o.host,
    '--redis', o.redisUrl,
    '--node-id', o.nodeId,
    '--rate-limit', String(so.rateLimit),
    '--rate-window-ms', String(so.rateWindowMs),
    '--max-payload', String(so.maxPayload),
    '--room-capacity', String(so.roomCapacity),
    '--ping-interval', String(so.pingInterval),
    '--ping-timeout', String(so.pingTimeout),
    // Older topologies (and tests) may lack it: the node's own default then applies.
    ...(so.maxBufferedBytes === undefined ? [] : ['--max-buffered-bytes', String(so.maxBufferedBytes)]),
    ...adapterArgs(t),
    ...calibrationFaultArgs(t),
    ...insecureDisableArgs(t),
  ];
}

