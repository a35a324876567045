import { generateKeyPairSync, createPublicKey, verify as cryptoVerify, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolSchema, REFERENCE_PROFILES, isReferenceProfile, redactProfile, type ProtocolProfile } from '../config/protocol.js';
import { compileMatch, compilePath, compileProfile, compileTextTemplate, fillClaims, signJwt } from './profile.js';
import { mintToken } from './token.js';

const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

describe('paths, matches, templates', () => {
  it('compiles a stamp path to a getter; socketio args[i] is element i + 1', () => {
    expect(compilePath('data.payload')({ data: { payload: 7 } })).toBe(7);
    expect(compilePath('data.payload')({ data: null })).toBeUndefined();
    expect(compilePath('args[0].body', true)(['room_message', { body: 'x' }])).toBe('x');
    expect(compilePath('args[1]', true)(['e', 'a', 'b'])).toBe('b');
    expect(compilePath('a.list[2].v')({ a: { list: [0, 0, { v: 3 }] } })).toBe(3);
    expect(() => compilePath('data.payload', true)).toThrow(/args\[i\]/);
    expect(() => compilePath('a;process.exit()')).toThrow(/bad path/);
  });

  it('a match requires every field to equal its value', () => {
    const m = compileMatch({ type: 'message', 'data.kind': 'room' });
    expect(m({ type: 'message', data: { kind: 'room' } })).toBe(true);
    expect(m({ type: 'message', data: { kind: 'dm' } })).toBe(false);
    expect(m({ type: 'msg' })).toBe(false);
    expect(m(null)).toBe(false);
    expect(compileMatch({ id: 1 })({ id: '1' })).toBe(false);
  });

  it('templates: a whole "{x}" becomes the value JSON, "{x}" inside a string its text', () => {
    const t = compileTextTemplate({ type: 'publish', room: '{room}', topic: 'room:{room}', payload: '{payload}', keep: '{other}' }, ['room', 'payload']);
    const out = JSON.parse(t({ room: 'r"1', payload: { seq: 1 } }));
    expect(out).toEqual({ type: 'publish', room: 'r"1', topic: 'room:r"1', payload: { seq: 1 }, keep: '{other}' });
    expect(compileTextTemplate(['join', '{room}'], ['room'], '42')({ room: 'a' })).toBe('42["join","a"]');
  });

  it('claims: {user} and {rooms}', () => {
    expect(fillClaims({ sub: '{user}', rooms: '{rooms}', scope: 'rooms:{rooms}' }, 'client-3', ['a', 'b'])).toEqual({ sub: 'client-3', rooms: ['a', 'b'], scope: 'rooms:a,b' });
  });
});

describe('JWT signing', () => {
  it('HS256 with the reference claims is byte for byte the token the generator always minted', () => {
    const p = compileProfile(REFERENCE_PROFILES.socketio, 'sekret');
    const c = p.credentials(5, 'client-5', null);
    const t = (c.auth as { token: string }).token;
    const claims = decode(t);
    expect(t).toBe(mintToken('sekret', 'client-5', ['*'], 3600, claims.iat as number));
  });

  it('HS384 / RS256 / ES256 signatures verify', () => {
    const hs = signJwt('HS384', 'k', { a: 1 });
    const [h, b, s] = hs.split('.');
    expect(createHmac('sha384', 'k').update(`${h}.${b}`).digest('base64url')).toBe(s);
    for (const [alg, kind] of [['RS256', 'rsa'], ['ES256', 'ec']] as const) {
      const { privateKey } = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
      const jwt = signJwt(alg, pem, { sub: 'x' });
      const [hh, bb, ss] = jwt.split('.');
      expect(JSON.parse(Buffer.from(hh, 'base64url').toString()).alg).toBe(alg);
      const ok = cryptoVerify('sha256', Buffer.from(`${hh}.${bb}`), { key: createPublicKey(privateKey), dsaEncoding: 'ieee-p1363' }, Buffer.from(ss, 'base64url'));
      expect(ok).toBe(true);
    }
  });
});

describe('compileProfile', () => {
  const base: ProtocolProfile = {
    wire: 'json',
    join: { frame: { type: 'join', room: '{room}' }, reply: { match: { type: 'joined' } }, okPath: 'ok' },
    publish: { frame: { type: 'pub', room: '{room}', payload: '{payload}' }, payloadAs: 'string' },
    receive: { match: { type: 'message' }, stampPath: 'data.payload' },
  };

  it('places the credential where auth.in says, with value and name', () => {
    const withAuth = (auth: ProtocolProfile['auth']) => compileProfile({ ...base, auth }, 's').credentials(0, 'client-0', null);
    expect(withAuth({ in: 'header', value: 'Bearer {token}', jwt: { secret: 'x' } }).headers!.Authorization).toMatch(/^Bearer ey/);
    expect(Object.keys(withAuth({ in: 'query', name: 'access_token', jwt: {} }).query!)).toEqual(['access_token']);
    expect(withAuth({ in: 'cookie', name: 'sid', jwt: {} }).headers!.Cookie).toMatch(/^sid=ey/);
    expect(JSON.parse(withAuth({ in: 'first-frame', frame: { type: 'auth', token: '{token}' }, jwt: {} }).firstFrame!).type).toBe('auth');
    expect(withAuth({ in: 'none' })).toEqual({});
    const dir = mkdtempSync(join(tmpdir(), 'wsb-tokens-'));
    writeFileSync(join(dir, 't.txt'), 'tok-a\ntok-b\n\n');
    const p = compileProfile({ ...base, auth: { in: 'query', tokensFile: join(dir, 't.txt') } }, 's');
    expect([0, 1, 2].map((i) => p.credentials(i, `client-${i}`, null).query!.token)).toEqual(['tok-a', 'tok-b', 'tok-a']);
  });

  it('credentialsFor puts any token (a probe’s bad one) where the profile puts its credential; none: no credential at all', () => {
    const p = (auth: ProtocolProfile['auth']) => compileProfile({ ...base, auth }, 's');
    expect(p({ in: 'header', value: 'Bearer {token}', jwt: {} }).credentialsFor('not-a-jwt')).toEqual({ headers: { Authorization: 'Bearer not-a-jwt' } });
    expect(p({ in: 'cookie', name: 'sid', jwt: {} }).credentialsFor('x.y.')).toEqual({ headers: { Cookie: 'sid=x.y.' } });
    expect(JSON.parse(p({ in: 'first-frame', frame: { type: 'auth', token: '{token}' }, jwt: {} }).credentialsFor('bad').firstFrame!)).toEqual({ type: 'auth', token: 'bad' });
    expect(p({ in: 'query', jwt: {} }).credentialsFor(undefined)).toEqual({});
    expect(p({ in: 'none' }).credentialsFor('bad')).toEqual({});
    expect(compileProfile({ ...base, wire: 'socketio', join: { event: 'j', ack: true }, publish: { event: 'p' }, receive: { event: 'm', stampPath: 'args[0]' }, auth: { in: 'auth', name: 'jwt', jwt: {} } }, 's').credentialsFor('bad')).toEqual({ auth: { jwt: 'bad' } });
  });

  it('publishes the stamp as a JSON string and reads it back through the stamp path', () => {
    const p = compileProfile(base, 's');
    const text = p.publisher('room-1')({ pub: 3, seq: 9, t: 100, n: 'node-1' });
    const frame = JSON.parse(text) as { room: string; payload: string };
    expect(frame.room).toBe('room-1');
    expect(typeof frame.payload).toBe('string');
    const arrived = { type: 'message', data: { payload: frame.payload } };
    expect(p.isMessage('', arrived)).toBe(true);
    expect(p.stamp(arrived)).toEqual({ pub: 3, seq: 9, t: 100, n: 'node-1' });
    expect(p.stamp({ type: 'message', data: { payload: 'not json' } })).toBeUndefined();
    // A seq without a publisher id that can name a ledger stream is no stamp either.
    for (const pub of [undefined, -1, 1.5, '3', null]) expect(p.stamp({ type: 'message', data: { payload: JSON.stringify({ pub, seq: 9, t: 100, n: 'node-1' }) } })).toBeUndefined();
    expect(p.stamp({ type: 'message', data: { payload: JSON.stringify({ pub: 0, seq: 9, t: 100, n: 'node-1' }) } })).toEqual({ pub: 0, seq: 9, t: 100, n: 'node-1' });
    expect(p.join.isReply!({ type: 'joined' })).toBe(true);
    expect(p.join.ok({ type: 'joined', ok: false })).toBe(false);
    expect(p.join.ok({ type: 'joined', ok: true })).toBe(true);
  });

  it('the reference profiles write the frames the generator always wrote', () => {
    const sio = compileProfile(REFERENCE_PROFILES.socketio, 's');
    const stamp = { pub: 1, seq: 2, t: 3, n: 'node-1' };
    expect(sio.publisher('r')(stamp)).toBe(`42${JSON.stringify(['publish', { room: 'r', payload: stamp }])}`);
    expect(sio.join.text('r', 4)).toBe(`424${JSON.stringify(['join', { room: 'r' }])}`);
    expect(sio.join.ok({ ok: true })).toBe(true);
    expect(sio.join.ok({ ok: false, error: 'room_full' })).toBe(false);
    expect(sio.stamp(['msg', { room: 'r', payload: stamp }])).toEqual(stamp);
    expect(sio.room!(['msg', { room: 'r', payload: stamp }])).toBe('r');
    expect(sio.welcome!.nodeId(['welcome', { nodeId: 'node-2' }])).toBe('node-2');
    const json = compileProfile(REFERENCE_PROFILES.json, 's');
    expect(json.publisher('r')(stamp)).toBe(JSON.stringify({ type: 'publish', data: { room: 'r', payload: stamp } }));
    expect(json.isMessage('', { type: 'msg', data: {} })).toBe(true);
    expect(json.join.isReply!({ type: 'ack', id: 1, data: { ok: true } })).toBe(true);
    expect(Object.keys(json.credentials(0, 'client-0', null).query!)).toEqual(['token']);
  });
});

describe('the protocol schema', () => {
  it('accepts the reference profiles and knows them', () => {
    expect(protocolSchema.safeParse(REFERENCE_PROFILES.socketio).success).toBe(true);
    expect(protocolSchema.safeParse(REFERENCE_PROFILES.json).success).toBe(true);
    expect(isReferenceProfile(JSON.parse(JSON.stringify(REFERENCE_PROFILES.json)))).toBe(true);
    expect(isReferenceProfile({ ...REFERENCE_PROFILES.json, path: '/x' })).toBe(false);
    const { receive, ...rest } = REFERENCE_PROFILES.socketio;
    expect(isReferenceProfile({ receive: { roomPath: receive.roomPath, stampPath: receive.stampPath, event: receive.event }, ...rest })).toBe(true);
  });

  it('names what a wire needs', () => {
    const r = protocolSchema.safeParse({ wire: 'socketio', join: { frame: {} }, publish: {}, receive: { stampPath: 'data.payload' } });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['join.event', 'publish.event', 'receive.event', 'receive.stampPath']));
    const bad = protocolSchema.safeParse({ wire: 'json', join: { frame: {} }, publish: { frame: {} }, receive: { match: {}, stampPath: 'x' }, auth: { in: 'auth' } });
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['auth.in']);
  });

  it('redacts the JWT secret', () => {
    expect(redactProfile({ ...REFERENCE_PROFILES.json, auth: { in: 'query', jwt: { secret: 'x' } } }).auth!.jwt!.secret).toBe('<redacted>');
  });
});
