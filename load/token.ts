import { createHmac } from 'node:crypto';

/** JWT audience the reference server checks. */
export const TOKEN_AUDIENCE = 'wsbench';

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/**
 * Mints the HS256 token a generator client presents at the handshake (RFC 7519, signed with
 * node:crypto's HMAC synchronously: a worker mints thousands during its connect ramp, and jose's
 * WebCrypto path imports the key on every call). `rooms` lists the rooms the token grants (`*`
 * grants all), as seed 001's "Room Authorization" requires the server to check.
 */
export function mintToken(secret: string | Uint8Array, sub: string, rooms: string[] = ['*'], ttlS = 3600, nowS = Math.floor(Date.now() / 1000)): string {
  const payload = b64url(JSON.stringify({ rooms, sub, aud: TOKEN_AUDIENCE, iat: nowS, exp: nowS + ttlS }));
  const sig = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${sig}`;
}
