/**
 * The security probes spoken through a protocol profile (config/protocol.ts): a user's server is
 * probed in its own protocol. Bad credentials go where `protocol.auth` puts the credential (the
 * Socket.IO auth field, a query parameter, a header, a cookie, the first frame), joins go through
 * `protocol.join`, publishes through `protocol.publish`, and what arrives is read by
 * `protocol.receive`.
 *
 * A profile says nothing of how the server words a refusal, so a probe is judged by what happened
 * to the connection and to the messages, not by an error text: a handshake refused in any way
 * (HTTP 4xx, Socket.IO connect_error, closed) or a join the profile's ack / reply calls refused
 * protects the node; a message that reaches another member of the room was handled. Each probe that
 * judges by delivery first sends a control message that must arrive, so a receive rule that does
 * not fit is an `error`, never a pass. A probe the profile cannot express (no credential to get
 * wrong, no rooms in the token, joins nobody confirms) is `not-applicable` with the reason.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProtocolProfile } from '../config/protocol.js';
import { describeOutcome, probeConnect, type HandshakeOutcome, type ProbeClient } from '../load/probe-client.js';
import { compileProfile, fillClaims, signJwt, type CompiledProfile, type Credentials } from '../load/profile.js';
import { classifyEvent } from '../load/profile-session.js';
import type { ProbeResult } from '../model/run-report.js';
import { MiB, ProbeError, checkAbort, fmtBytes, isObj, notApplicable, probe, type Judged, type ProbeEnv } from './probe-harness.js';

const rand = () => randomBytes(3).toString('hex');
const b64url = (v: string) => Buffer.from(v).toString('base64url');

/** How a join through the profile ended. */
type JoinOutcome = { kind: 'ok' | 'refused' | 'closed' | 'timeout' | 'unconfirmed'; observed: string };

/** A probe connection with the profile's view of what it receives (exported for its test). */
export class Peer {
  /** Room messages received, by the stamp's `pub`. */
  private readonly got = new Map<number, number>();
  private replyWait: ((d: unknown) => void) | null = null;

  constructor(
    readonly c: ProbeClient,
    private readonly P: CompiledProfile,
  ) {
    // Classified as the worker classifies (a welcome is never taken for a join's reply).
    c.onProfileFrame = (event, data) => {
      const kind = classifyEvent(P, event, data, this.replyWait !== null);
      if (kind === 'message') {
        const s = P.stamp(data);
        if (s !== undefined) this.got.set(s.pub, (this.got.get(s.pub) ?? 0) + 1);
      } else if (kind === 'join-reply') {
        const w = this.replyWait!;
        this.replyWait = null;
        w(data);
      }
    };
  }

  /** Room messages with stamp `pub` received so far. */
  count(pub: number): number {
    return this.got.get(pub) ?? 0;
  }

  get closed(): boolean {
    return this.c.closeCode !== undefined;
  }

  async join(room: string, timeoutMs: number): Promise<JoinOutcome> {
    const j = this.P.join;
    if (j.ack) {
      const a = await this.c.sendWithAck((id) => j.text(room, id), timeoutMs);
      if (isObj(a) && typeof a.closed === 'number' && Object.keys(a).length === 1) return { kind: 'closed', observed: `closed with ${a.closed} before the join's ack` };
      if (isObj(a) && a.timeout === true && Object.keys(a).length === 1) return { kind: 'timeout', observed: `no ack to the join within ${timeoutMs} ms` };
      return j.ok(a) ? { kind: 'ok', observed: `join acked ${JSON.stringify(a)}` } : { kind: 'refused', observed: `join acked ${JSON.stringify(a) ?? 'nothing'}` };
    }
    if (j.isReply === null) {
      this.c.sendRaw(j.text(room, 0));
      return { kind: 'unconfirmed', observed: 'join sent (the profile has no join confirmation)' };
    }
    const reply = new Promise<unknown>((resolve) => {
      this.replyWait = resolve;
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      void this.c.closed.then(() => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    this.c.sendRaw(j.text(room, 0));
    const got = await reply;
    this.replyWait = null;
    if (got === undefined) return this.closed ? { kind: 'closed', observed: `closed with ${this.c.closeCode} before the join's reply` } : { kind: 'timeout', observed: `no join reply within ${timeoutMs} ms` };
    return j.ok(got) ? { kind: 'ok', observed: `join answered ${JSON.stringify(got)}` } : { kind: 'refused', observed: `join answered ${JSON.stringify(got)}` };
  }

  /** One publish through the profile, stamped `pub`/`seq` (and padded with `pad` characters). */
  publish(room: string, pub: number, seq: number, pad = 0): void {
    this.c.sendRaw(this.frame(room, pub, seq, pad));
  }

  frame(room: string, pub: number, seq: number, pad = 0): string {
    return this.P.publisher(room)({ pub, seq, t: 0, n: 'probe', ...(pad > 0 ? { pad: 'x'.repeat(pad) } : {}) });
  }
}

/** Waits until `count()` reaches `want`, or stops growing for `quietMs`, or `withinMs` passes; the last count. */
async function deliveries(count: () => number, want: number, withinMs: number, quietMs = 1000, signal?: AbortSignal): Promise<number> {
  const t0 = Date.now();
  let last = count();
  let since = Date.now();
  while (last < want && Date.now() - t0 < withinMs && Date.now() - since < quietMs) {
    if (signal) checkAbort(signal);
    await sleep(25);
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return count();
}

/** Whether a handshake outcome is a refusal (the node kept the client out) rather than a failure to tell. */
function refusedAtHandshake(r: HandshakeOutcome): boolean {
  return (r.kind === 'http' && r.status >= 400 && r.status < 500) || r.kind === 'connect_error' || r.kind === 'closed';
}

export interface Bad {
  id: string;
  description: string;
  /** The credential to present (undefined: none); a string reason: not applicable. */
  token: string | undefined | { na: string };
}

/** The defective credentials for this profile: those of the reference probes that it can express. */
export function badCredentials(profile: ProtocolProfile, runSecret: string): Bad[] {
  const a = profile.auth!;
  const out: Bad[] = [
    { id: 'no-token', description: `handshake without the credential (no ${describeWhere(profile)})`, token: undefined },
    { id: 'malformed', description: 'a credential that is not a JWT ("not-a-jwt")', token: 'not-a-jwt' },
  ];
  const jwtIds: Array<[string, string]> = [
    ['wrong-signature', 'a JWT signed with another key'],
    ['alg-none', 'an unsigned JWT (header alg: none)'],
    ['expired', 'a JWT that expired an hour ago'],
    ['wrong-audience', 'a JWT for another audience (aud "other-service")'],
  ];
  if (a.jwt === undefined) {
    const why = a.tokensFile !== undefined ? 'the profile uses static tokens (auth.tokensFile): wsbench holds no key to forge a JWT variant' : 'the profile signs no JWT (no auth.jwt)';
    return [...out, ...jwtIds.map(([id, description]) => ({ id, description, token: { na: why } }))];
  }
  const j = a.jwt;
  const alg = j.alg ?? 'HS256';
  const key = alg.startsWith('HS') ? (j.secret ?? runSecret) : readFileSync(j.privateKeyFile!);
  const now = Math.floor(Date.now() / 1000);
  const template = j.claims ?? { sub: '{user}' };
  const claims: Record<string, unknown> = { ...(fillClaims(template, 'probe-auth', ['*']) as Record<string, unknown>), iat: now, exp: now + 3600 };
  const otherKey = alg.startsWith('HS')
    ? randomBytes(32)
    : alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const hasAud = isObj(template) && 'aud' in template;
  return [
    ...out,
    { id: 'wrong-signature', description: `a JWT (${alg}) signed with another ${alg.startsWith('HS') ? 'secret' : 'key'}`, token: signJwt(alg, otherKey, claims) },
    { id: 'alg-none', description: 'an unsigned JWT (header alg: none)', token: `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.` },
    { id: 'expired', description: 'a JWT that expired an hour ago', token: signJwt(alg, key, { ...claims, iat: now - 7200, exp: now - 3600 }) },
    {
      id: 'wrong-audience',
      description: 'a JWT for another audience (aud "other-service")',
      token: hasAud ? signJwt(alg, key, { ...claims, aud: claims.aud === 'other-service' ? 'another-service' : 'other-service' }) : { na: "the profile's claims (auth.jwt.claims) carry no aud: there is no audience to get wrong" },
    },
  ];
}

function describeWhere(p: ProtocolProfile): string {
  const a = p.auth!;
  switch (a.in) {
    case 'auth':
      return `Socket.IO auth.${a.name ?? 'token'}`;
    case 'query':
      return `query parameter ${a.name ?? 'token'}`;
    case 'header':
      return `${a.name ?? 'Authorization'} header`;
    case 'cookie':
      return `cookie ${a.name ?? 'token'}`;
    case 'first-frame':
      return 'first frame';
    default:
      return 'credential';
  }
}

/** What a valid credential's join of a room named as the auth probes name theirs did. */
export interface AuthControl {
  joined: boolean;
  observed: string;
}

/**
 * A bad credential's refused join passes only if a valid credential joins a room of the same form:
 * a server without auth that refuses unknown rooms would otherwise pass every auth probe. With the
 * control refused too, the probe cannot tell (`error`, never `pass`).
 */
export function withAuthControl(judged: Judged, control: AuthControl): Judged {
  if (judged.status !== 'pass') return judged;
  if (control.joined) return { ...judged, observed: `${judged.observed}; a valid credential joined a room of the same form (${control.observed})` };
  return { ...judged, status: 'error', observed: `${judged.observed}, but a valid credential's join of a room of the same form was refused too (${control.observed}): a refused credential cannot be told from a refused room` };
}

/** The probes for a server spoken to through `profile`, in the reference probes' order and ids. */
export function profileProbes(env: ProbeEnv, profile: ProtocolProfile): Array<() => Promise<ProbeResult>> {
  const P = compileProfile(profile, env.secret);
  let users = 0;
  let pubs = 1_000_000;
  const wait = env.o.probeTimeout;
  /** A short wait for something that should not happen (a delivery the node ought to refuse). */
  const quiet = Math.min(wait, 2000);

  const connect = async (creds: Credentials, origin?: string): Promise<HandshakeOutcome> => {
    const r = await probeConnect({ url: env.url, protocol: P.wire === 'socketio' ? 'socketio' : 'ws', profile: { path: P.path, credentials: creds }, origin, timeoutMs: wait });
    if (r.kind === 'connected') env.open.add(r.client);
    return r;
  };
  const valid = (rooms: string[]) => P.credentials(users++, `probe-${rand()}`, rooms);
  const peer = async (rooms: string[], what: string): Promise<Peer> => {
    const r = await connect(valid(rooms));
    if (r.kind !== 'connected') throw new ProbeError(`${what}: a valid connection was refused: ${describeOutcome(r)}`);
    return new Peer(r.client, P);
  };
  /** A member of `room` (its join ok, or sent where nobody confirms joins). */
  const member = async (room: string, what: string, rooms = [room]): Promise<Peer> => {
    const m = await peer(rooms, what);
    const j = await m.join(room, wait);
    if (j.kind !== 'ok' && j.kind !== 'unconfirmed') throw new ProbeError(`${what}: a valid join of "${room}" failed: ${j.observed}`);
    return m;
  };
  /** A publisher to `room` (a member first when the profile's publishers join: `publish.join`). */
  const publisher = (room: string, what: string, rooms = [room]) => (P.publisherJoins ? member(room, what, rooms) : peer(rooms, what));
  /** A control message from `pub` must reach `to`: else the receive rule does not fit and the probe cannot tell. */
  const control = async (from: Peer, to: Peer, room: string, what: string) => {
    const id = pubs++;
    from.publish(room, id, 1);
    if ((await deliveries(() => to.count(id), 1, wait, wait)) < 1) throw new ProbeError(`${what}: a valid publish to "${room}" never reached a member (by the profile's receive rule) within ${wait} ms, so a refusal could not be told from a misfit`);
  };

  // ---- auth ----
  const auth: Array<() => Promise<ProbeResult>> = [];
  /** A valid credential's join of a `probe-auth-…` room: the control of every refused bad-credential join (once per run). */
  let authControlOnce: Promise<AuthControl> | null = null;
  const authControl = () =>
    (authControlOnce ??= (async (): Promise<AuthControl> => {
      const room = `probe-auth-${rand()}`;
      const r = await connect(valid([room]));
      if (r.kind !== 'connected') return { joined: false, observed: `its handshake: ${describeOutcome(r)}` };
      const c = new Peer(r.client, P);
      const j = await c.join(room, wait);
      if (j.kind === 'ok') return { joined: true, observed: j.observed };
      if (j.kind !== 'unconfirmed') return { joined: false, observed: j.observed };
      await sleep(quiet);
      return c.closed ? { joined: false, observed: `closed with ${c.c.closeCode} after its join` } : { joined: true, observed: `still open ${quiet} ms after its join` };
    })());
  const a = profile.auth;
  const authExpected = 'refused: the handshake fails (HTTP 4xx, connect_error, or closed) or the join is refused';
  if (a === undefined || a.in === 'none') {
    auth.push(notApplicable('auth', 'credential', 'handshakes with bad credentials', 'the profile sends no credential (protocol.auth absent or in: none): there is nothing for the server to refuse'));
  } else {
    for (const bad of badCredentials(profile, env.secret)) {
      if (isObj(bad.token)) {
        auth.push(notApplicable('auth', bad.id, bad.description, (bad.token as { na: string }).na));
        continue;
      }
      const token = bad.token as string | undefined;
      auth.push(() =>
        probe('auth', bad.id, bad.description, authExpected, async (): Promise<Judged> => {
          const r = await connect(P.credentialsFor(token));
          if (r.kind !== 'connected') return { status: refusedAtHandshake(r) ? 'pass' : 'error', observed: describeOutcome(r) };
          // Let in at the handshake: what the connection may do decides.
          const c = new Peer(r.client, P);
          const j = await c.join(`probe-auth-${rand()}`, wait);
          let judged: Judged;
          if (j.kind === 'ok') return { status: 'fail', observed: `accepted: the handshake completed and the ${j.observed}` };
          if (j.kind === 'refused' || j.kind === 'closed') judged = { status: 'pass', observed: `the handshake completed, then ${j.observed}` };
          else if (j.kind === 'timeout') return { status: 'error', observed: `the handshake completed, then ${j.observed}: cannot tell` };
          else {
            await sleep(quiet);
            if (!c.closed) return { status: 'fail', observed: `accepted: the connection is still open ${quiet} ms after the handshake (the profile's join has no confirmation to tell more)` };
            judged = { status: 'pass', observed: `the handshake completed, then closed with ${c.c.closeCode}` };
          }
          // A refusal counts only if a valid credential may join a room of that form.
          return withAuthControl(judged, await authControl());
        }),
      );
    }
  }

  // ---- origin ----
  const origin = () =>
    probe('origin', 'foreign-origin', `a valid credential, from a browser page on ${env.o.foreignOrigin} (Origin header)`, 'the handshake refused (HTTP 4xx, connect_error, or closed)', async () => {
      const c = await connect(valid(['*']));
      if (c.kind !== 'connected') throw new ProbeError(`the control handshake without Origin was refused: ${describeOutcome(c)}`);
      c.client.close();
      const r = await connect(valid(['*']), env.o.foreignOrigin);
      if (r.kind === 'connected') return { status: 'fail', observed: `accepted: ${describeOutcome(r)}` };
      return { status: refusedAtHandshake(r) ? 'pass' : 'error', observed: describeOutcome(r) };
    });

  // ---- size-limit ----
  const limit = env.limits.maxPayload;
  const size = limit + 1024;
  const sizeProbe = () =>
    probe('size-limit', 'oversized-frame', `one publish frame of ${fmtBytes(size)} (limit ${fmtBytes(limit)})`, 'not delivered to the room (the connection closed, or the frame dropped)', async () => {
      const room = `probe-size-${rand()}`;
      const m = await member(room, 'the member');
      const pub = await publisher(room, 'the publisher');
      await control(pub, m, room, 'size-limit');
      const id = pubs++;
      const overhead = pub.frame(room, id, 1).length + 10;
      pub.publish(room, id, 1, size - overhead);
      // Until it is delivered or the node closes the publisher, at most `quiet` ms.
      await deliveries(() => m.count(id) + (pub.closed ? 1 : 0), 1, quiet, quiet);
      const delivered = m.count(id);
      const after = await connect(valid(['*']));
      const nodeOk = after.kind === 'connected' ? 'the node still accepts connections' : `then a new connection: ${describeOutcome(after)}`;
      const details = { frameBytes: size, maxPayloadBytes: limit, closeCode: pub.c.closeCode ?? null, delivered };
      if (delivered > 0) return { status: 'fail', observed: `delivered to a member of the room: the server handled a ${fmtBytes(size)} frame; ${nodeOk}`, details };
      if (pub.closed) return { status: 'pass', observed: `connection closed with ${pub.c.closeCode}, nothing delivered; ${nodeOk}`, details };
      return { status: 'pass', observed: `connection kept, nothing delivered within ${quiet} ms (the frame was dropped); ${nodeOk}`, details };
    });

  // ---- rate-limit ----
  const rl = env.limits.rateLimit;
  const windowS = env.limits.rateWindowMs / 1000;
  const n = rl + Math.max(10, Math.ceil(rl * 0.2));
  const rateProbe = () =>
    probe('rate-limit', 'publish-flood', `${n} publishes from one connection at once (limit ${rl} per ${windowS} s)`, `at most ${rl} reach the room`, async () => {
      if (n > 5000) throw new ProbeError(`the nodes allow ${rl} messages per window for this run; the probe floods at most 5000`);
      const room = `probe-rate-${rand()}`;
      const m = await member(room, 'the member');
      const pub = await publisher(room, 'the publisher');
      await control(pub, m, room, 'rate-limit');
      const id = pubs++;
      for (let i = 1; i <= n; i++) pub.publish(room, id, i);
      const delivered = await deliveries(() => m.count(id), n, Math.max(wait, 10_000), 1500, env.signal);
      const details = { sent: n, delivered, limit: rl, closeCode: pub.c.closeCode ?? null };
      const closed = pub.closed ? `; the publisher was closed with ${pub.c.closeCode}` : '';
      const observed = `${delivered} of ${n} reached a member of the room${closed}`;
      return { status: delivered <= rl ? 'pass' : 'fail', observed: delivered <= rl ? observed : `${observed}: no limit of ${rl} in force`, details };
    });

  // ---- room-auth ----
  const granted = `probe-granted-${rand()}`;
  const forbidden = `probe-forbidden-${rand()}`;
  const roomsInToken = a?.jwt !== undefined && a.tokensFile === undefined && JSON.stringify(a.jwt.claims ?? {}).includes('{rooms}');
  const noGrant = 'the profile\'s token names no rooms ({rooms} is not in auth.jwt.claims): wsbench cannot make a token the server would limit to some rooms';
  const roomDesc = (what: string) => `a token granting only "${granted}" ${what} "${forbidden}"`;
  const room: Array<() => Promise<ProbeResult>> = [];
  if (!roomsInToken) {
    room.push(notApplicable('room-auth', 'join-ungranted', roomDesc('joins'), noGrant), notApplicable('room-auth', 'publish-ungranted', roomDesc('publishes to'), noGrant));
  } else {
    room.push(
      P.join.ack || P.join.isReply !== null
        ? () =>
            probe('room-auth', 'join-ungranted', roomDesc('joins'), 'the join refused (by its ack / reply) or the connection closed', async () => {
              const c = await member(granted, 'the granted join', [granted]);
              const j = await c.join(forbidden, wait);
              if (j.kind === 'ok') return { status: 'fail', observed: `accepted: ${j.observed}` };
              return { status: j.kind === 'timeout' ? 'error' : 'pass', observed: j.observed };
            })
        : notApplicable('room-auth', 'join-ungranted', roomDesc('joins'), "the profile's join has no confirmation (no join.ack / join.reply): a refusal cannot be seen"),
      () =>
        probe('room-auth', 'publish-ungranted', roomDesc('publishes to'), `nothing reaches a member of "${forbidden}"`, async () => {
          const m = await member(forbidden, 'the member of the forbidden room', [forbidden]);
          const ok = await publisher(forbidden, 'a granted publisher', [forbidden]);
          await control(ok, m, forbidden, 'room-auth');
          const c = await peer([granted], 'the ungranted publisher');
          const j = P.publisherJoins ? (await c.join(forbidden, wait)).observed : 'no join first';
          const id = pubs++;
          c.publish(forbidden, id, 1);
          const got = await deliveries(() => m.count(id), 1, quiet, quiet);
          const observed = `${got ? 'delivered' : 'not delivered'} to a member of "${forbidden}" (${j})`;
          return { status: got ? 'fail' : 'pass', observed: got ? `accepted: ${observed}` : observed };
        }),
    );
  }

  // ---- slow-consumer ----
  const bufLimit = env.limits.maxBufferedBytes;
  const budget = env.o.slowConsumerMb * MiB;
  const chunk0 = Math.max(1024, Math.min(MiB, limit - 1024));
  const slowProbe = () =>
    probe(
      'slow-consumer',
      'never-reads',
      `a member of a room stops reading its socket while ${fmtBytes(budget)} of messages (each up to ${fmtBytes(chunk0)}, smaller if the server refuses that size) are published to the room; another member reads`,
      `the node drops the connection (or the messages) of the member that does not read, once more than ${fmtBytes(bufLimit)} wait for it: it never gets everything the reading member got`,
      async () => {
        const room = `probe-slow-${rand()}`;
        const slow = await member(room, 'the slow consumer');
        const reader = await member(room, 'the reading member');
        let pub = await publisher(room, 'the publisher');
        await control(pub, reader, room, 'slow-consumer');
        // The largest message (÷4 from chunk0) the server passes on: its own size limit may be lower than the seed's.
        let chunk = chunk0;
        for (;;) {
          const trial = pubs++;
          pub.publish(room, trial, 1, chunk - pub.frame(room, trial, 1).length - 10);
          if ((await deliveries(() => reader.count(trial) + (pub.closed ? 1 : 0), 1, wait, wait)) > 0 && reader.count(trial) > 0) break;
          if (chunk <= 1024) throw new ProbeError(`no message of ${fmtBytes(chunk)} or more reached the reading member`);
          chunk = Math.max(1024, Math.floor(chunk / 4));
          if (pub.closed) pub = await publisher(room, 'the publisher');
        }
        // The trial messages reached the slow member too: it reads them now, then stops reading.
        await deliveries(() => slow.c.messagesReceived, Number.MAX_SAFE_INTEGER, 1000, 300);
        slow.c.pause();
        const messages = Math.ceil(budget / chunk);
        const id = pubs++;
        const pad = chunk - pub.frame(room, id, 1).length - 10;
        let published = 0;
        let stop = '';
        while (published < messages && !pub.closed) {
          checkAbort(env.signal);
          pub.publish(room, id, ++published, pad);
          while (pub.c.bufferedAmount > 4 * chunk && !pub.closed) await sleep(5);
          // Keep pace with what the reading member gets: a node that stops passing messages on ends the flood.
          const every = Math.max(8, Math.ceil(messages / 64));
          if (published % every === 0 && (await deliveries(() => reader.count(id), published - every, 10_000, 3000, env.signal)) < published - every) {
            stop = `; the reading member stopped receiving after ${reader.count(id)}`;
            break;
          }
        }
        if (pub.closed) stop = `; the publisher was closed with ${pub.c.closeCode} after ${published}`;
        const read = await deliveries(() => reader.count(id), published, 10_000, 3000, env.signal);
        slow.c.resume();
        // Whatever the node kept for the slow member arrives now, then (if it dropped it) the close.
        let last = -1;
        let stalled = 0;
        while (!slow.closed && slow.count(id) < read && stalled < 20) {
          checkAbort(env.signal);
          await sleep(100);
          if (slow.c.bytesReceived === last) stalled++;
          else stalled = 0;
          last = slow.c.bytesReceived;
        }
        const got = slow.count(id);
        const details = { maxBufferedBytes: bufLimit, messageBytes: chunk, messagesPublished: published, bytesPublished: published * chunk, messagesToReader: read, messagesDelivered: got, bytesReceived: slow.c.bytesReceived, closeCode: slow.c.closeCode ?? null };
        const what = `${got} of the ${read} messages of ${fmtBytes(chunk)} the reading member got${stop}`;
        if (read === 0) throw new ProbeError(`no message reached the reading member${stop}`);
        if (slow.closed) return { status: 'pass', observed: `dropped by the node: closed with ${slow.c.closeCode} after delivering ${what}`, details };
        if (got < read) return { status: 'pass', observed: `connection kept, messages dropped: delivered ${what}`, details };
        return { status: 'fail', observed: `the node queued everything for a member that did not read and delivered it when it read again: ${what}`, details };
      },
    );

  return [...auth, origin, sizeProbe, rateProbe, ...room, slowProbe];
}
