/**
 * What every security probe shares (scenarios/security-probes.ts): the families, the environment a
 * probe runs in, the wrapper that times a probe and turns its own failure into `error`, and the
 * nodes' health and figures. The probes themselves are in reference-probes.ts (the reference
 * protocol, judged by the reference servers' exact answers) and profile-probes.ts (any server,
 * spoken to through its protocol profile).
 */
import { WsbenchError } from '../common/errors.js';
import { httpGet } from '../cluster/wait.js';
import { tcpConnect } from '../cluster/observe.js';
import { promValue } from '../cluster/prom-metrics.js';
import type { ServerOptions, StartedCluster } from '../cluster/types.js';
import type { ProbeClient } from '../load/probe-client.js';
import type { WireProtocol } from '../load/protocol-client.js';
import type { ProbeResult } from '../model/run-report.js';

/** Probe families, each judged by its own target (`probe-<family>`). */
export const PROBE_FAMILIES = ['auth', 'origin', 'size-limit', 'rate-limit', 'room-auth', 'slow-consumer'] as const;
export type ProbeFamily = (typeof PROBE_FAMILIES)[number];

export const MiB = 1024 * 1024;

/** The options every probe reads (security-probes' own). */
export interface ProbeOptions {
  slowConsumerMb: number;
  foreignOrigin: string;
  probeTimeout: number;
}

/** What one probe needs. */
export interface ProbeEnv {
  url: string;
  protocol: WireProtocol;
  secret: string;
  limits: ServerOptions;
  cluster: StartedCluster;
  o: ProbeOptions;
  signal: AbortSignal;
  /** Every connection a probe opened, closed when the probes end. */
  open: Set<ProbeClient>;
}

export const fmtBytes = (b: number) => (b >= MiB ? `${(b / MiB).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new WsbenchError('WSB_INTERRUPTED', 'run interrupted during the security probes');
}

/** The probe could not tell (its own setup failed): status `error`. */
export class ProbeError extends Error {}

export type Judged = Pick<ProbeResult, 'observed' | 'status'> & { details?: ProbeResult['details'] };

export async function probe(family: ProbeFamily, id: string, description: string, expected: string, body: () => Promise<Judged>): Promise<ProbeResult> {
  const t0 = Date.now();
  let j: Judged;
  try {
    j = await body();
  } catch (e) {
    if (e instanceof WsbenchError) throw e;
    j = { status: 'error', observed: e instanceof ProbeError ? e.message : `probe failed: ${(e as Error).message}` };
  }
  return { family, id: `${family}/${id}`, description, expected, ...j, durationMs: Date.now() - t0 };
}

/** A probe that cannot be expressed for this server's profile: reported with the reason, never passed. */
export function notApplicable(family: ProbeFamily, id: string, description: string, reason: string): () => Promise<ProbeResult> {
  return async () => ({ family, id: `${family}/${id}`, description, expected: 'n/a', observed: `not applicable: ${reason}`, status: 'not-applicable', durationMs: 0 });
}

/** The node a client landed on, if wsbench knows its URL. */
export function nodeUrl(env: ProbeEnv, nodeId: string | undefined): string | undefined {
  return env.cluster.nodes.find((n) => n.id === nodeId)?.url;
}

/** RSS and the slow-consumer drop counter of one node (nulls when it cannot be scraped). */
export async function nodeFigures(url: string | undefined): Promise<{ rss: number | null; slowDrops: number | null }> {
  if (url === undefined) return { rss: null, slowDrops: null };
  try {
    const { status, body } = await httpGet(`${url}/metrics`, 2000);
    if (status !== 200) return { rss: null, slowDrops: null };
    const m = /^wsb_rejected_total\{[^}]*reason="slow_consumer"[^}]*\}\s+(\S+)/m.exec(body);
    return { rss: promValue(body, 'process_resident_memory_bytes'), slowDrops: m ? Number(m[1]) : null };
  } catch {
    return { rss: null, slowDrops: null };
  }
}

/**
 * Whether each node wsbench knows is up (or the load balancer, when it knows none): its health
 * path answers 200 (`/health` on the reference nodes, a user's `server.ready.http`); a user's node
 * without one (ready by TCP or a log line) is up while its process runs and its port accepts.
 */
export async function health(cluster: StartedCluster): Promise<Map<string, boolean>> {
  const httpUp = async (url: string) => {
    try {
      return (await httpGet(url, 2000)).status === 200;
    } catch {
      return false;
    }
  };
  if (cluster.nodes.length === 0) return new Map([['lb', await httpUp(`${cluster.url}/health`)]]);
  const up = await Promise.all(
    cluster.nodes.map(async (n) => {
      const path = n.healthPath === undefined ? '/health' : n.healthPath;
      if (path !== null) return httpUp(`${n.url}${path}`);
      return n.running() && (await tcpConnect(new URL(n.url).hostname, n.port, 2000)) === 'accepted';
    }),
  );
  return new Map(cluster.nodes.map((n, i) => [n.id, up[i]]));
}
