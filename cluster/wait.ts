import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientTls } from '../common/tls.js';

/** One HTTP(S) GET; resolves with status and body, rejects on connection errors. https:// verifies with the process's client TLS (common/tls.ts). */
export function httpGet(target: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  // A ws(s):// cluster URL (`--url wss://…`) answers /health and /metrics over http(s).
  const url = target.replace(/^ws(s?):/i, 'http$1:');
  return new Promise((resolve, reject) => {
    const https = url.startsWith('https:');
    const req = (https ? httpsRequest : request)(url, { method: 'GET', timeout: timeoutMs, agent: false, ...(https ? clientTls() : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `url` until it answers with status 200 (`any2xx`: any 2xx) or `timeoutMs` passes. Resolves true when ready,
 * false on timeout (callers turn that into a coded error naming what did not come up).
 */
export async function waitForHttp(url: string, timeoutMs: number, intervalMs = 100, signal?: AbortSignal, any2xx = false): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal?.aborted) return false;
    try {
      const res = await httpGet(url, Math.min(2000, timeoutMs));
      if (res.status === 200 || (any2xx && res.status >= 200 && res.status < 300)) return true;
    } catch {
      // not up yet
    }
    await sleep(intervalMs);
  }
  return false;
}
