/**
 * How wsbench's clients verify a `wss://` / `https://` cluster (`--url` with `tls.ca` or
 * `tls.insecure`): one setting per process. The CLI process sets it when the external driver
 * starts (its /health checks, /metrics scrapes, chaos observations, security probes); each load
 * worker sets it from its init message. Plain ws:// and http:// ignore it.
 */

/** TLS options for `ws` / `https.request`: a CA (PEM text) to trust, or no verification at all. */
export interface ClientTls {
  /** PEM of the CA (or CAs) that signed the cluster's certificate (`tls.ca`, `--ca <file>`); default: the system's. */
  ca?: string;
  /** false with `tls.insecure` / `--insecure`: the certificate is not verified (the report says so). Default true. */
  rejectUnauthorized: boolean;
}

let current: ClientTls | undefined;

/** Sets (or with undefined, clears) this process's client TLS. */
export function setClientTls(tls: ClientTls | undefined): void {
  current = tls;
}

/** Options to spread into `new WebSocket(url, …)` or `https.request(url, …)`: empty unless set. */
export function clientTls(): { ca?: string; rejectUnauthorized?: boolean } {
  if (!current) return {};
  return { ...(current.ca !== undefined ? { ca: current.ca } : {}), rejectUnauthorized: current.rejectUnauthorized };
}
