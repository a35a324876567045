import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../reference-server/token.js';
import { badTokens, signJwt } from './probe-tokens.js';
import { TOKEN_AUDIENCE } from './token.js';

const SECRET = 'probe-token-secret';

describe('badTokens', () => {
  it('forges six credentials the reference verifier refuses, each for its own reason', async () => {
    const verify = await createTokenVerifier(SECRET);
    const reasons: Record<string, string> = {};
    for (const t of badTokens(SECRET, 'u', ['*'])) {
      if (t.token === undefined) {
        reasons[t.id] = 'none';
        continue;
      }
      reasons[t.id] = await verify(t.token).then(
        () => 'accepted',
        (e: { code: string }) => e.code,
      );
    }
    expect(reasons).toEqual({
      'no-token': 'none',
      malformed: 'ERR_JWS_INVALID',
      'wrong-signature': 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      'alg-none': 'ERR_JOSE_ALG_NOT_ALLOWED',
      expired: 'ERR_JWT_EXPIRED',
      'wrong-audience': 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });

  it('differs from a valid token only by its defect', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = signJwt(SECRET, { sub: 'u', rooms: ['*'], aud: TOKEN_AUDIENCE, iat: now, exp: now + 60 });
    await expect((await createTokenVerifier(SECRET))(valid)).resolves.toMatchObject({ sub: 'u', rooms: null });
  });
});
