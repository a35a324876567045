/**
 * JWT helpers for the reference server.
 *
 * Tokens are HS256 JWTs with audience `wsbench` and the claims
 *   sub:   string    – user id
 *   rooms: string[]  – room names the token grants; `["*"]` grants every room
 *
 * The secret is imported into a CryptoKey once (per verifier) so each handshake only pays
 * for one HMAC, not for a key import.
 */
import { webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify, type CryptoKey as JoseCryptoKey } from 'jose';

export const JWT_AUDIENCE = 'wsbench';
export const JWT_ALGORITHM = 'HS256';
/** Room wildcard: a token whose `rooms` claim contains it may join/publish to any room. */
export const ALL_ROOMS = '*';

/** The verified identity attached to a socket. */
export interface TokenGrant {
  readonly sub: string;
  /** `null` means every room is granted. */
  readonly rooms: ReadonlySet<string> | null;
}

export function grantsRoom(grant: TokenGrant, room: string): boolean {
  return grant.rooms === null || grant.rooms.has(room);
}

/** Thrown by a verifier; `code` is the jose error code (e.g. ERR_JWS_SIGNATURE_VERIFICATION_FAILED) or `bad_claims`. */
export class TokenError extends Error {
  readonly code: string;
  constructor(code: string, message?: string) {
    super(message ?? code);
    this.name = 'TokenError';
    this.code = code;
  }
}

export type TokenVerifier = (token: string) => Promise<TokenGrant>;

const encoder = new TextEncoder();

/** Imports the secret once and returns a fast verifier. */
export async function createTokenVerifier(secret: string): Promise<TokenVerifier> {
  if (secret.length === 0) throw new Error('JWT secret must not be empty');
  const key = (await webcrypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  )) as unknown as JoseCryptoKey;
  const options = { algorithms: [JWT_ALGORITHM], audience: JWT_AUDIENCE };

  return async (token: string): Promise<TokenGrant> => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, options));
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      const code = typeof e.code === 'string' ? e.code : String(e.message ?? err);
      throw new TokenError(code);
    }
    const sub = payload.sub;
    const rooms = payload.rooms;
    if (typeof sub !== 'string' || sub.length === 0) throw new TokenError('bad_claims', 'sub must be a string');
    if (!Array.isArray(rooms) || !rooms.every((r) => typeof r === 'string')) {
      throw new TokenError('bad_claims', 'rooms must be a string array');
    }
    return { sub, rooms: rooms.includes(ALL_ROOMS) ? null : new Set(rooms as string[]) };
  };
}

export interface MintOptions {
  sub: string;
  rooms: string[];
  /** Lifetime in seconds; omitted → no `exp` claim. */
  expiresInSec?: number;
  /** Override the audience (tests use this to produce rejected tokens). */
  audience?: string;
}

/** Signs a token the reference server accepts (used by tests and tooling). */
export async function mintToken(secret: string, opts: MintOptions): Promise<string> {
  const jwt = new SignJWT({ rooms: opts.rooms })
    .setProtectedHeader({ alg: JWT_ALGORITHM, typ: 'JWT' })
    .setSubject(opts.sub)
    .setAudience(opts.audience ?? JWT_AUDIENCE)
    .setIssuedAt();
  if (opts.expiresInSec !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + opts.expiresInSec);
  return jwt.sign(encoder.encode(secret));
}
