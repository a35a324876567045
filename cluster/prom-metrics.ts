import type { NodeMetrics } from './types.js';
import { httpGet } from './wait.js';

/**
 * Reads sample values out of Prometheus text format. Only what the harness needs: the first sample
 * of a metric name, summing over label sets when `sum` is set.
 */
export function promValue(text: string, name: string, sum = false): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const valueText = rest.slice(rest[0] === '{' ? rest.indexOf('}') + 1 : 0).trim().split(/\s+/)[0];
    const v = Number(valueText);
    if (!Number.isFinite(v)) continue;
    if (!sum) return v;
    total = (total ?? 0) + v;
  }
  return total;
}

/** One scrape of a node's /metrics (prom-client text, or `path`); `up: false` and nulls when it does not answer. */
export async function scrapeNodeMetrics(nodeId: string, url: string, running: boolean, path = '/metrics'): Promise<NodeMetrics> {
  const empty: NodeMetrics = { nodeId, up: false, connections: null, rssBytes: null, heapUsedBytes: null, eventLoopLagMs: null, publishTotal: null };
  if (!running) return empty;
  try {
    const { status, body } = await httpGet(`${url}${path}`, 2000);
    if (status !== 200) return empty;
    const lag = promValue(body, 'nodejs_eventloop_lag_seconds');
    return {
      nodeId,
      up: true,
      connections: promValue(body, 'wsb_connections'),
      rssBytes: promValue(body, 'process_resident_memory_bytes'),
      heapUsedBytes: promValue(body, 'nodejs_heap_size_used_bytes'),
      eventLoopLagMs: lag === null ? null : lag * 1000,
      publishTotal: promValue(body, 'wsb_publish_total', true),
    };
  } catch {
    return empty;
  }
}
