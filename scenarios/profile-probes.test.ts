import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProtocolProfile } from '../config/protocol.js';
import { Peer, badCredentials, withAuthControl } from './profile-probes.js';
import { compileProfile } from '../load/profile.js';
import type { ProbeClient } from '../load/probe-client.js';

const base: ProtocolProfile = {
  wire: 'socketio',
  join: { event: 'join', args: ['{room}'], ack: true },
  publish: { event: 'pub', args: ['{room}', '{payload}'] },
  receive: { event: 'msg', stampPath: 'args[0]' },
};
const parts = (t: string) => t.split('.').map((p, i) => (i < 2 ? JSON.parse(Buffer.from(p, 'base64url').toString()) : p));
const ids = (bad: ReturnType<typeof badCredentials>) => bad.map((b) => [b.id, typeof b.token === 'object' ? 'n/a' : b.token === undefined ? 'none' : 'token']);

describe('the bad credentials of a profile', () => {
  it('a JWT profile: the forgeries use its alg and claims; the audience probe only when its claims carry aud', () => {
    const p: ProtocolProfile = { ...base, auth: { in: 'auth', jwt: { secret: 's3', claims: { userId: '{user}', aud: 'chat' } } } };
    const bad = badCredentials(p, 'run-secret');
    expect(ids(bad)).toEqual([
      ['no-token', 'none'],
      ['malformed', 'token'],
      ['wrong-signature', 'token'],
      ['alg-none', 'token'],
      ['expired', 'token'],
      ['wrong-audience', 'token'],
    ]);
    const tok = (id: string) => bad.find((b) => b.id === id)!.token as string;
    const sign = (t: string) => createHmac('sha256', 's3').update(t.split('.').slice(0, 2).join('.')).digest('base64url');
    // Signed with the profile's secret where only one defect is meant; the claims are the profile's.
    expect(parts(tok('expired'))[2]).toBe(sign(tok('expired')));
    expect(parts(tok('expired'))[1].exp).toBeLessThan(Date.now() / 1000);
    expect(parts(tok('wrong-audience'))[1]).toMatchObject({ userId: 'probe-auth', aud: 'other-service' });
    expect(parts(tok('wrong-signature'))[2]).not.toBe(sign(tok('wrong-signature')));
    expect(parts(tok('alg-none'))[0]).toEqual({ alg: 'none', typ: 'JWT' });
    expect(ids(badCredentials({ ...p, auth: { in: 'auth', jwt: { secret: 's3', claims: { userId: '{user}' } } } }, 'x')).at(-1)).toEqual(['wrong-audience', 'n/a']);
  });

  it('static tokens: only the missing and the malformed credential apply', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'wsb-pp-')), 't.txt');
    writeFileSync(f, 'a\nb\n');
    expect(ids(badCredentials({ ...base, auth: { in: 'query', tokensFile: f } }, 'x'))).toEqual([
      ['no-token', 'none'],
      ['malformed', 'token'],
      ['wrong-signature', 'n/a'],
      ['alg-none', 'n/a'],
      ['expired', 'n/a'],
      ['wrong-audience', 'n/a'],
    ]);
  });
});

describe('a refused bad-credential join and its control', () => {
  const refused = { status: 'pass' as const, observed: 'the handshake completed, then join acked {"ok":false}' };
  it('passes only when a valid credential joins a room of the same form', () => {
    expect(withAuthControl(refused, { joined: true, observed: 'join acked {"ok":true}' })).toMatchObject({ status: 'pass' });
    const noAuth = withAuthControl(refused, { joined: false, observed: 'join acked {"ok":false}' });
    expect(noAuth.status).toBe('error');
    expect(noAuth.observed).toContain('refused too');
  });
  it('leaves a fail or an error as it was', () => {
    expect(withAuthControl({ status: 'fail', observed: 'accepted' }, { joined: false, observed: 'x' })).toEqual({ status: 'fail', observed: 'accepted' });
    expect(withAuthControl({ status: 'error', observed: 'timeout' }, { joined: true, observed: 'x' })).toEqual({ status: 'error', observed: 'timeout' });
  });
});

describe('a probe connection (Peer) reads frames as the worker does', () => {
  it("a welcome frame that the join's reply rule would also match is not taken for the join's reply", async () => {
    // A loose reply rule: any `ack` frame — and this server's welcome is an `ack` frame too.
    const p: ProtocolProfile = {
      wire: 'json',
      welcome: { match: { type: 'ack', hello: true }, nodeIdPath: 'data.node' },
      join: { frame: { type: 'join', room: '{room}' }, reply: { match: { type: 'ack' } }, okPath: 'ok', ok: true },
      publish: { frame: { type: 'pub', room: '{room}', payload: '{payload}' } },
      receive: { match: { type: 'msg' }, stampPath: 'payload' },
    };
    const P = compileProfile(p, 'secret');
    const sent: string[] = [];
    const fake = { onProfileFrame: undefined as ((event: string, data: unknown) => void) | undefined, sendRaw: (t: string) => sent.push(t), closed: new Promise<void>(() => {}), closeCode: undefined };
    const peer = new Peer(fake as unknown as ProbeClient, P);
    const joined = peer.join('r1', 2000);
    // The welcome arrives while the join waits; it matches the reply rule too (and its ok is false).
    fake.onProfileFrame!('', { type: 'ack', hello: true, ok: false, data: { node: 'n1' } });
    fake.onProfileFrame!('', { type: 'ack', ok: true });
    const r = await joined;
    expect(sent).toHaveLength(1);
    expect(r.kind).toBe('ok');
  });
});
