import { describe, expect, it } from 'vitest';
import { jwtVerify } from 'jose';
import { mintToken, TOKEN_AUDIENCE } from './token.js';

describe('mintToken', () => {
  it('makes an HS256 JWT that jose verifies with the same secret and audience', async () => {
    const secret = 's3cret-for-test';
    const token = mintToken(secret, 'client-7', ['room-1']);
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'], audience: TOKEN_AUDIENCE });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe('client-7');
    expect(payload.rooms).toEqual(['room-1']);
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('is rejected with another secret and when expired', async () => {
    const token = mintToken('a', 'x');
    await expect(jwtVerify(token, new TextEncoder().encode('b'), { audience: TOKEN_AUDIENCE })).rejects.toThrow();
    const old = mintToken('a', 'x', ['*'], 10, Math.floor(Date.now() / 1000) - 100);
    await expect(jwtVerify(old, new TextEncoder().encode('a'), { audience: TOKEN_AUDIENCE })).rejects.toThrow(/exp/);
  });
});
