/**
 * The checks every reference-server variant applies to what clients send (seed 001 "Security
 * Considerations": JWT on every connection, room authorization, rate limit, message size; plus the
 * Origin check and the send-buffer limit), computed once from the options, so the three variants
 * enforce the same policy.
 *
 * `--insecure-disable <check,…>` turns single checks off. It exists ONLY so that wsbench's
 * `security-probes` scenario can prove it catches a server that lacks a check (calibration): it is
 * not a feature, a node started with it prints a warning and names the disabled checks in its
 * listening line.
 */
import { TokenError, grantsRoom, type TokenGrant, type TokenVerifier } from './token.js';

/** Checks `--insecure-disable` can turn off (test/calibration only). */
export const INSECURE_CHECKS = ['auth', 'origin', 'rate-limit', 'size-limit', 'room-auth', 'buffer-limit'] as const;
export type InsecureCheck = (typeof INSECURE_CHECKS)[number];

/** Default `--max-buffered-bytes`: 4 MiB, four of seed 001's largest messages ("Max 1MB per message"). */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Largest frame a node with `--insecure-disable size-limit` accepts (1 GiB: in effect, none). */
export const INSECURE_MAX_PAYLOAD = 2 ** 30;

/** The security-related options (all optional: the defaults are the secure ones). */
export interface SecurityOptions {
  /**
   * Origins a browser may open a WebSocket from (`--allowed-origins`, comma-separated, e.g.
   * `https://app.example.com`); `*` allows any. Default: none — the reference server serves no
   * page, so no browser origin is its own. A handshake WITHOUT an Origin header (what non-browser
   * clients such as the load generator send) is always allowed: the Origin check stops cross-site
   * WebSocket hijacking from browsers, which CORS does not (browsers do not apply CORS to
   * WebSockets); the JWT is what keeps everyone else out.
   */
  allowedOrigins?: string[];
  /**
   * Bytes queued for one connection (not yet written to its socket) beyond which the node drops
   * the connection (`--max-buffered-bytes`, default 4 MiB): a client that stops reading cannot make
   * the node buffer without bound.
   */
  maxBufferedBytes?: number;
  /** Checks turned off on purpose (`--insecure-disable`, calibration only). */
  insecureDisable?: InsecureCheck[];
}

/** What a variant enforces, after `--insecure-disable`. */
export interface SecurityPolicy {
  /** Checks that are off (empty in any real use). */
  readonly disabled: readonly InsecureCheck[];
  /** True when a handshake with this Origin header (undefined: none sent) may proceed. */
  originAllowed(origin: string | undefined | null): boolean;
  /** Messages per connection per window (Infinity with rate-limit disabled). */
  readonly rateLimit: number;
  /** Largest accepted frame, bytes. */
  readonly maxPayload: number;
  /** Send-buffer limit per connection, bytes; 0: none (buffer-limit disabled). */
  readonly maxBufferedBytes: number;
  /** Room authorization: may this grant join / publish to `room`. */
  mayUse(grant: TokenGrant, room: string): boolean;
  /**
   * Authenticates a handshake token (undefined / empty: none sent). Rejects with TokenError
   * (`no_token` or jose's code) — unless auth is disabled, where a token that does not verify gets
   * an anonymous grant for every room.
   */
  authenticate(token: unknown): Promise<TokenGrant>;
}

const ANONYMOUS: TokenGrant = Object.freeze({ sub: 'anonymous', rooms: null });

/** `scheme://host[:port]` of an origin or URL, lower-case; null when it is not one. */
export function normalizeOrigin(value: string): string | null {
  try {
    const u = new URL(value.trim());
    if (u.origin === 'null') return null;
    return u.origin.toLowerCase();
  } catch {
    return null;
  }
}

/** Parses `--allowed-origins` (comma-separated origins or `*`); throws on an entry that is not an origin. */
export function parseAllowedOrigins(raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part === '*') {
      out.push('*');
      continue;
    }
    const o = normalizeOrigin(part);
    if (o === null) throw new Error(`'${part}' is not an origin like https://app.example.com (or *)`);
    out.push(o);
  }
  return out;
}

/** Parses `--insecure-disable` (comma-separated checks); throws naming the unknown ones. */
export function parseInsecureDisable(raw: string): InsecureCheck[] {
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = parts.filter((p) => !(INSECURE_CHECKS as readonly string[]).includes(p));
  if (bad.length) throw new Error(`unknown check(s) ${bad.join(', ')}; one of ${INSECURE_CHECKS.join(', ')}`);
  return [...new Set(parts as InsecureCheck[])];
}

export function securityPolicy(
  opts: SecurityOptions & { rateLimit: number; maxPayload: number },
  verify: TokenVerifier,
): SecurityPolicy {
  const disabled = opts.insecureDisable ?? [];
  const off = (c: InsecureCheck) => disabled.includes(c);
  const allowed = new Set(opts.allowedOrigins ?? []);
  const anyOrigin = off('origin') || allowed.has('*');
  return {
    disabled,
    originAllowed(origin) {
      if (anyOrigin || origin === undefined || origin === null || origin === '') return true;
      const o = normalizeOrigin(origin);
      return o !== null && allowed.has(o);
    },
    rateLimit: off('rate-limit') ? Infinity : opts.rateLimit,
    maxPayload: off('size-limit') ? INSECURE_MAX_PAYLOAD : opts.maxPayload,
    maxBufferedBytes: off('buffer-limit') ? 0 : (opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES),
    mayUse: off('room-auth') ? () => true : grantsRoom,
    async authenticate(token) {
      if (typeof token !== 'string' || token.length === 0) {
        if (off('auth')) return ANONYMOUS;
        throw new TokenError('no_token', 'no token');
      }
      try {
        return await verify(token);
      } catch (e) {
        // Calibration: the node takes any token (a valid one still gets its own rooms).
        if (off('auth')) return { sub: 'anonymous', rooms: null };
        throw e;
      }
    },
  };
}
