/**
 * Compiles a protocol profile (config/protocol.ts) once per worker into the small functions the
 * generator calls: a path becomes a getter (`args[0].body` → `x => x?.[1]?.["body"]`), a match a
 * predicate, a frame template a string builder (JSON of the template cut at its placeholders), so
 * the receive path costs what the hard-wired reference protocol cost — no per-message closure, no
 * walk over the template.
 *
 * What a client hands over per frame (load/sio-client.ts `fullArgs`, load/ws-client.ts `rawFrames`):
 * Socket.IO: `(event, [event, arg0, arg1, …])` — so `args[i]` is element i + 1; JSON frames:
 * `('', frame)`.
 */
import { createHmac, sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ProtocolProfile } from '../config/protocol.js';
import { isStamp, type Payload } from './arrival-recorder.js';

/** Reads a value out of what a client delivered; undefined when any step is missing. */
export type Getter = (data: unknown) => unknown;
/** Builds a frame's text from named values. */
export type TextTemplate = (vars: Record<string, unknown>) => string;

/** Splits `a.b[0].c` into ['a', 'b', 0, 'c']. */
export function pathSegments(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of path.split('.')) {
    const m = /^([A-Za-z_$][\w$]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new Error(`bad path "${path}"`);
    out.push(m[1]);
    for (const i of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(i[1]));
  }
  return out;
}

/**
 * A path compiled to a getter. With `socketioArgs`, a leading `args[i]` reads element i + 1 of the
 * delivered array (element 0 is the event name).
 */
export function compilePath(path: string, socketioArgs = false): Getter {
  const segs = pathSegments(path);
  if (socketioArgs) {
    if (segs[0] !== 'args' || typeof segs[1] !== 'number') throw new Error(`path "${path}" must start with args[i]`);
    segs.splice(0, 2, (segs[1] as number) + 1);
  }
  const body = segs.map((s) => `?.[${JSON.stringify(s)}]`).join('');
  // Segments are validated identifiers or integers, quoted by JSON.stringify: nothing else reaches the code.
  return new Function('x', `return x${body};`) as Getter;
}

/** `{a: 1, 'data.kind': 'x'}` → a predicate: every key (a path) equals its value. */
export function compileMatch(match: Record<string, unknown>): (data: unknown) => boolean {
  const checks = Object.entries(match).map(([k, v]) => {
    const body = pathSegments(k)
      .map((s) => `?.[${JSON.stringify(s)}]`)
      .join('');
    if (v === null || typeof v !== 'object') return `x${body} === ${JSON.stringify(v)}`;
    return `JSON.stringify(x${body}) === ${JSON.stringify(JSON.stringify(v))}`;
  });
  return new Function('x', `return x !== null && typeof x === 'object' && ${checks.length ? checks.join(' && ') : 'true'};`) as (data: unknown) => boolean;
}

/**
 * A JSON template cut at its placeholders: a string that is exactly `"{name}"` becomes the value's
 * JSON (an object stays an object); `{name}` inside a longer string becomes the value's text.
 * `names` are the placeholders it knows; others stay as written.
 */
export function compileTextTemplate(template: unknown, names: string[], prefix = ''): TextTemplate {
  const known = new Set(names);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const whole = /^\{(\w+)\}$/.exec(v);
      if (whole && known.has(whole[1])) return `@@wsb:V:${whole[1]}:wsb@@`;
      return v.replace(/\{(\w+)\}/g, (all, n: string) => (known.has(n) ? `@@wsb:S:${n}:wsb@@` : all));
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const json = prefix + JSON.stringify(walk(template));
  const re = /"@@wsb:V:(\w+):wsb@@"|@@wsb:S:(\w+):wsb@@/g;
  const parts: string[] = [];
  const slots: Array<{ name: string; whole: boolean }> = [];
  let last = 0;
  for (const x of json.matchAll(re)) {
    parts.push(json.slice(last, x.index));
    slots.push(x[1] !== undefined ? { name: x[1], whole: true } : { name: x[2], whole: false });
    last = x.index! + x[0].length;
  }
  parts.push(json.slice(last));
  if (slots.length === 0) return () => json;
  return (vars) => {
    let s = parts[0];
    for (let i = 0; i < slots.length; i++) {
      const v = vars[slots[i].name];
      s += slots[i].whole ? JSON.stringify(v) : JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v)).slice(1, -1);
      s += parts[i + 1];
    }
    return s;
  };
}

/** Replaces `{user}` / `{rooms}` in a claims template (a whole-string `"{rooms}"` becomes the array). */
export function fillClaims(v: unknown, user: string, rooms: string[]): unknown {
  if (v === '{rooms}') return rooms;
  if (typeof v === 'string') return v.replace(/\{user\}/g, user).replace(/\{rooms\}/g, rooms.join(','));
  if (Array.isArray(v)) return v.map((x) => fillClaims(x, user, rooms));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillClaims(x, user, rooms)]));
  return v;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** Signs a JWT (RFC 7519) synchronously with node:crypto: HS256/384/512 with a secret, RS256/ES256 with a PEM private key. */
export function signJwt(alg: 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'ES256', key: string | Buffer, claims: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  let sig: string;
  if (alg.startsWith('HS')) sig = createHmac(`sha${alg.slice(2)}`, key).update(input).digest('base64url');
  // ES256's signature is r‖s (ieee-p1363), not DER (RFC 7518 §3.4).
  else sig = cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${input}.${sig}`;
}

/** What goes with one connection's upgrade / handshake. */
export interface Credentials {
  auth?: Record<string, unknown>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Sent first, right after the connection is up (`auth.in: 'first-frame'`). */
  firstFrame?: string;
}

export interface CompiledProfile {
  readonly wire: 'socketio' | 'json';
  readonly path: string;
  /** Credentials of connection `index` (user `user`, in `rooms` when known). */
  credentials(index: number, user: string, rooms: string[] | null): Credentials;
  /**
   * Any token `t` put where the profile puts its credential (with `auth.value`'s template): what the
   * security probes hand over in place of a valid one. undefined (or `auth.in: 'none'`): no credential at all.
   */
  credentialsFor(t: string | undefined): Credentials;
  /** Whether a delivered event / frame is a room message. */
  isMessage(event: string, data: unknown): boolean;
  /** The stamp of a room message (parsed when it travels as a JSON string); undefined when absent. */
  stamp(data: unknown): Payload | undefined;
  /** The room a room message names, when the profile says where (`receive.roomPath`); else null. */
  readonly room: Getter | null;
  /** The server's announcement of its node (null: none, the node comes from the load balancer or is unknown). */
  readonly welcome: { is(event: string, data: unknown): boolean; nodeId: Getter } | null;
  readonly join: {
    /** The join frame's text (`id`: the ack id, Socket.IO with `ack`). */
    text(room: string, id: number): string;
    /** Socket.IO: the last argument is an ack callback. */
    readonly ack: boolean;
    /** JSON: the frame that answers a join; null: none expected. */
    readonly isReply: ((data: unknown) => boolean) | null;
    /** Whether an ack's first argument / a reply frame says success. */
    ok(v: unknown): boolean;
  };
  /** The publish frame builder of one room (room baked in): stamp → text. */
  publisher(room: string): (stamp: Payload & { pad?: string }) => string;
  /** The server sends a room message back to its publisher too. */
  readonly echo: boolean;
  /** Publishers join their room first (`publish.join`). */
  readonly publisherJoins: boolean;
}

/**
 * Compiles `p`. `jwtSecret`: the run's own secret, used when `auth.jwt.secret` is absent (the
 * reference profiles). Reads `privateKeyFile` / `tokensFile` now, once.
 */
export function compileProfile(p: ProtocolProfile, jwtSecret: string): CompiledProfile {
  const sio = p.wire === 'socketio';
  const path = p.path ?? (sio ? '/socket.io/' : '/');

  // --- auth ---
  const auth = p.auth ?? { in: 'none' as const };
  let token: (index: number, user: string, rooms: string[] | null) => string | undefined = () => undefined;
  if (auth.tokensFile !== undefined) {
    const lines = readFileSync(auth.tokensFile, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    if (lines.length === 0) throw new Error(`${auth.tokensFile} holds no token`);
    token = (i) => lines[i % lines.length];
  } else if (auth.jwt !== undefined) {
    const j = auth.jwt;
    const alg = j.alg ?? 'HS256';
    const key = alg.startsWith('HS') ? (j.secret ?? jwtSecret) : readFileSync(j.privateKeyFile!);
    const ttl = j.expiresInS ?? 3600;
    const claims = j.claims ?? { sub: '{user}' };
    token = (_i, user, rooms) => {
      const now = Math.floor(Date.now() / 1000);
      const c = fillClaims(claims, user, rooms ?? ['*']) as Record<string, unknown>;
      return signJwt(alg, key, { ...c, iat: c.iat ?? now, exp: c.exp ?? now + ttl });
    };
  }
  const valueTpl = auth.value ?? '{token}';
  const frameTpl = auth.in === 'first-frame' ? compileTextTemplate(auth.frame, ['token'], sio ? '42' : '') : null;
  const credentialsFor = (t: string | undefined): Credentials => {
    if (auth.in === 'none' || t === undefined) return {};
    const value = valueTpl.replace(/\{token\}/g, t);
    switch (auth.in) {
      case 'auth':
        return { auth: { [auth.name ?? 'token']: value } };
      case 'query':
        return { query: { [auth.name ?? 'token']: value } };
      case 'header':
        return { headers: { [auth.name ?? 'Authorization']: value } };
      case 'cookie':
        return { headers: { Cookie: `${auth.name ?? 'token'}=${value}` } };
      case 'first-frame':
        return { firstFrame: frameTpl!({ token: t }) };
    }
  };
  const credentials = (index: number, user: string, rooms: string[] | null): Credentials => (auth.in === 'none' ? {} : credentialsFor(token(index, user, rooms) ?? ''));

  // --- receive ---
  const r = p.receive;
  const stampGet = compilePath(r.stampPath, sio);
  const stamp = (data: unknown): Payload | undefined => {
    let v = stampGet(data);
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        return undefined;
      }
    }
    return isStamp(v) ? v : undefined;
  };
  let isMessage: (event: string, data: unknown) => boolean;
  if (sio) {
    const name = r.event!;
    const m = r.match ? compileMatch(r.match) : null;
    isMessage = m === null ? (event) => event === name : (event, data) => event === name && m(data);
  } else {
    const m = compileMatch(r.match!);
    isMessage = (_e, data) => m(data);
  }

  // --- welcome ---
  let welcome: CompiledProfile['welcome'] = null;
  if (p.welcome) {
    const w = p.welcome;
    const m = w.match ? compileMatch(w.match) : null;
    const is = sio ? (m === null ? (e: string) => e === w.event : (e: string, d: unknown) => e === w.event && m(d)) : (_e: string, d: unknown) => m!(d);
    welcome = { is, nodeId: compilePath(w.nodeIdPath ?? (sio ? 'args[0].nodeId' : 'nodeId'), sio) };
  }

  // --- join ---
  const j = p.join;
  const okGet = j.okPath !== undefined ? compilePath(j.okPath) : null;
  const okWant = j.ok;
  const ok = (v: unknown) => {
    if (okGet === null) return true;
    const got = okGet(v);
    return okWant === undefined ? Boolean(got) : JSON.stringify(got) === JSON.stringify(okWant);
  };
  let joinText: (room: string, id: number) => string;
  if (sio) {
    const body = compileTextTemplate([j.event, ...(j.args ?? [])], ['room']);
    joinText = j.ack ? (room, id) => `42${id}${body({ room })}` : (room) => `42${body({ room })}`;
  } else {
    const body = compileTextTemplate(j.frame, ['room']);
    joinText = (room) => body({ room });
  }
  const join = { text: joinText, ack: sio && j.ack === true, isReply: !sio && j.reply ? compileMatch(j.reply.match) : null, ok };

  // --- publish ---
  const pb = p.publish;
  const asString = pb.payloadAs === 'string';
  const pubTpl = sio ? compileTextTemplate([pb.event, ...(pb.args ?? [])], ['room', 'payload'], '42') : compileTextTemplate(pb.frame, ['room', 'payload']);
  const publisher = (room: string) => {
    // One vars object per publisher, reused for every message.
    const vars: Record<string, unknown> = { room, payload: undefined };
    return (s: Payload & { pad?: string }) => {
      vars.payload = asString ? JSON.stringify(s) : s;
      return pubTpl(vars);
    };
  };

  return {
    wire: p.wire,
    path,
    credentials,
    credentialsFor,
    isMessage,
    stamp,
    room: r.roomPath !== undefined ? compilePath(r.roomPath, sio) : null,
    welcome,
    join,
    publisher,
    echo: r.echo === true,
    publisherJoins: pb.join === true,
  };
}
