/**
 * The k6 command line and environment wsbench runs (a pure function: unit-tested as such).
 */
import { join } from 'node:path';
import { sourceAddressFor } from '../../load/source-address.js';
import { K6_TREND_STATS } from './summary.js';
import type { K6Plan } from './scripts/lib/plan.js';

export interface K6CommandInput {
  k6Path: string;
  /** The bundled script. */
  scriptPath: string;
  /** The run folder: k6's summaries go to `<runDir>/k6/`. */
  runDir: string;
  /** Cluster URL through the load balancer (`http://127.0.0.1:<port>`). */
  url: string;
  protocol: 'socketio' | 'ws';
  tokensFile: string;
  plan: K6Plan;
  thresholds: Record<string, string[]>;
  /** The harness's environment, passed on to k6 (PATH, HOME, …). */
  baseEnv?: NodeJS.ProcessEnv;
  /**
   * This k6 process's share of the test (`--execution-segment`, e.g. `1/3:2/3`) and the whole
   * sequence (`--execution-segment-sequence`, e.g. `0,1/3,2/3,1`), as the k6-operator splits a test
   * over its runners. Unset: the whole test.
   */
  segment?: { segment: string; sequence?: string };
}

export interface K6Command {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Where `--summary-export` writes (flat format, thresholds inverted). */
  summaryExportPath: string;
  /** Where the script's handleSummary writes k6's summary data. */
  handleSummaryPath: string;
}

/** `ws://host:port` for an `http(s)://host:port` base URL. */
export function wsUrl(url: string): string {
  return url.replace(/^http(s?):\/\//, 'ws$1://').replace(/\/+$/, '');
}

/**
 * One source address per VU, each in its own 127.0.x.0/24 (NGINX `ip_hash` hashes the first three
 * octets: load/source-address.ts); k6 gives VU n the n-th address of `--local-ips`, and its
 * WebSocket dialer binds it, so the VUs spread over the nodes as the Node engine's clients do.
 */
export function localIpsFor(vus: number): string {
  return Array.from({ length: vus }, (_, i) => sourceAddressFor(i)).join(',');
}

/**
 * `k6 run` with: both summary outputs (`--summary-export` and the script's handleSummary to
 * WSB_SUMMARY_JSON), the Trend stats a MetricSummary needs (p(99), p(99.9), count), one source
 * address per VU, and the WSB_* variables the scripts read (engines/k6/scripts/lib/plan.ts). Usage
 * reports stay off (K6_NO_USAGE_REPORT).
 */
export function k6Command(i: K6CommandInput): K6Command {
  const dir = join(i.runDir, 'k6');
  const summaryExportPath = join(dir, 'summary-export.json');
  const handleSummaryPath = join(dir, 'handle-summary.json');
  const vars: Record<string, string> = {
    WSB_URL: wsUrl(i.url),
    WSB_PROTOCOL: i.protocol,
    WSB_TOKENS_FILE: i.tokensFile,
    WSB_PLAN: JSON.stringify(i.plan),
    WSB_THRESHOLDS: JSON.stringify(i.thresholds),
    WSB_SUMMARY_JSON: handleSummaryPath,
  };
  const args = [
    'run',
    '--summary-export',
    summaryExportPath,
    '--summary-trend-stats',
    K6_TREND_STATS.join(','),
    '--local-ips',
    localIpsFor(i.plan.vus),
    ...(i.segment ? ['--execution-segment', i.segment.segment, ...(i.segment.sequence ? ['--execution-segment-sequence', i.segment.sequence] : [])] : []),
    ...Object.entries(vars).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    i.scriptPath,
  ];
  return {
    command: i.k6Path,
    args,
    env: { ...(i.baseEnv ?? {}), K6_NO_USAGE_REPORT: 'true' },
    summaryExportPath,
    handleSummaryPath,
  };
}
