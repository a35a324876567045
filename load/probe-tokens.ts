/**
 * Tokens a server must refuse at the handshake (seed 001 "All connections require valid JWT"),
 * forged here so the security probes can present them: each is a JWT the reference server would
 * accept but for one defect.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { TOKEN_AUDIENCE, mintToken } from './token.js';

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** An HS256 JWT with exactly these claims and this header (no defaults added). */
export function signJwt(secret: string | Uint8Array, claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const head = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

export interface BadToken {
  /** Probe id suffix: `no-token`, `malformed`, … */
  id: string;
  description: string;
  /** undefined: the handshake carries no token at all. */
  token: string | undefined;
}

/**
 * The six defective credentials, for user `sub` and `rooms` (otherwise valid claims): none, not a
 * JWT, signed with another secret, `alg: none` (unsigned), expired an hour ago, issued for another
 * audience.
 */
export function badTokens(secret: string, sub: string, rooms: string[], nowS = Math.floor(Date.now() / 1000)): BadToken[] {
  const claims = { sub, rooms, aud: TOKEN_AUDIENCE, iat: nowS, exp: nowS + 3600 };
  return [
    { id: 'no-token', description: 'handshake without a token', token: undefined },
    { id: 'malformed', description: 'a token that is not a JWT', token: 'not-a-jwt' },
    { id: 'wrong-signature', description: 'a JWT signed with another secret', token: mintToken(randomBytes(32), sub, rooms, 3600, nowS) },
    {
      id: 'alg-none',
      description: 'an unsigned JWT (header alg: none)',
      token: `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`,
    },
    { id: 'expired', description: 'a JWT that expired an hour ago', token: signJwt(secret, { ...claims, iat: nowS - 7200, exp: nowS - 3600 }) },
    { id: 'wrong-audience', description: `a JWT for another audience (aud "other-service", not "${TOKEN_AUDIENCE}")`, token: signJwt(secret, { ...claims, aud: 'other-service' }) },
  ];
}
