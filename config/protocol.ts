/**
 * The `protocol` config key: how the generator speaks to the nodes (issue 14 part 2). A profile is
 * data, not code (as Artillery's socket.io engine names events in YAML), so it is validated here,
 * printed, and stored in the report; load/profile.ts compiles it once per worker into small
 * functions.
 *
 * Absent, the run uses the reference protocol of the chosen variant: REFERENCE_PROFILES below
 * describe exactly what the generator did before profiles existed — there is one code path.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { REDACTED } from './redact.js';

/** A dotted path into an event's arguments or a frame: `args[0].body`, `data.payload`, `nodeId`. */
export const PATH_RE = /^[A-Za-z_$][\w$]*(\[\d+\])*(\.[A-Za-z_$][\w$]*(\[\d+\])*)*$/;
const path = z.string().regex(PATH_RE, 'must be a path like args[0].body or data.payload');
const match = z.record(z.string(), z.unknown());

export const RECONNECT_PRESETS = ['socketio-client', 'seed-000', 'seed-001', 'seed-004', 'forever'] as const;

export const reconnectObjectSchema = z
  .object({
    initialMs: z.number().min(0),
    maxMs: z.number().min(0),
    factor: z.number().min(1),
    jitter: z.enum(['none', 'full', 'randomization']),
    randomization: z.number().min(0).max(1).optional(),
    maxTries: z.number().int().min(0).optional(),
    stopOnServerDisconnect: z.boolean().optional(),
  })
  .strict();

export const protocolSchema = z
  .object({
    wire: z.enum(['socketio', 'json']),
    path: z.string().startsWith('/').optional(),
    auth: z
      .object({
        in: z.enum(['auth', 'query', 'header', 'cookie', 'first-frame', 'none']),
        name: z.string().min(1).optional(),
        value: z.string().includes('{token}', { message: 'must contain {token}' }).optional(),
        frame: z.unknown().optional(),
        jwt: z
          .object({
            alg: z.enum(['HS256', 'HS384', 'HS512', 'RS256', 'ES256']).optional(),
            secret: z.string().min(1).optional(),
            privateKeyFile: z.string().min(1).optional(),
            claims: z.record(z.string(), z.unknown()).optional(),
            expiresInS: z.number().int().min(1).optional(),
          })
          .strict()
          .optional(),
        tokensFile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    welcome: z
      .union([z.literal(false), z.object({ event: z.string().min(1).optional(), match: match.optional(), nodeIdPath: path.optional() }).strict()])
      .optional(),
    join: z
      .object({
        event: z.string().min(1).optional(),
        args: z.array(z.unknown()).optional(),
        frame: z.unknown().optional(),
        ack: z.boolean().optional(),
        reply: z.object({ match }).strict().optional(),
        okPath: path.optional(),
        ok: z.unknown().optional(),
      })
      .strict(),
    publish: z
      .object({
        event: z.string().min(1).optional(),
        args: z.array(z.unknown()).optional(),
        frame: z.unknown().optional(),
        payloadAs: z.enum(['object', 'string']).optional(),
        /** The publisher joins its room first (a server that lets only members broadcast, as seed 000's `Not in room`). */
        join: z.boolean().optional(),
      })
      .strict(),
    receive: z
      .object({
        event: z.string().min(1).optional(),
        match: match.optional(),
        stampPath: path,
        /** Where the room is in a room message (optional): with it, a message for another room is a leak (`no-leak`). */
        roomPath: path.optional(),
        echo: z.boolean().optional(),
      })
      .strict(),
    reconnect: z.union([z.enum(RECONNECT_PRESETS), reconnectObjectSchema]).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const need = (ok: boolean, at: string[], message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path: at, message });
    };
    if (p.wire === 'socketio') {
      need(p.join.event !== undefined, ['join', 'event'], 'is required with wire socketio (the event that joins a room)');
      need(p.publish.event !== undefined, ['publish', 'event'], 'is required with wire socketio');
      need(p.receive.event !== undefined, ['receive', 'event'], 'is required with wire socketio (the room-message event)');
      need(/^args\[\d+\]/.test(p.receive.stampPath), ['receive', 'stampPath'], 'must start with args[i] with wire socketio (e.g. args[0].body)');
      if (p.welcome) need(p.welcome.event !== undefined, ['welcome', 'event'], 'is required with wire socketio');
    } else {
      need(p.join.frame !== undefined, ['join', 'frame'], 'is required with wire json (the frame that joins a room, "{room}" templated)');
      need(p.publish.frame !== undefined, ['publish', 'frame'], 'is required with wire json ("{room}" and "{payload}" templated)');
      need(p.receive.match !== undefined, ['receive', 'match'], 'is required with wire json (the fields that make a frame a room message)');
      need(p.join.ack !== true, ['join', 'ack'], 'is for wire socketio; with wire json use join.reply');
      if (p.welcome) need(p.welcome.match !== undefined, ['welcome', 'match'], 'is required with wire json');
    }
    const a = p.auth;
    if (a !== undefined) {
      if (a.in === 'first-frame' && p.wire === 'socketio') need(Array.isArray(a.frame) && typeof a.frame[0] === 'string', ['auth', 'frame'], 'must be an array [event, ...args] with wire socketio');
      if (a.in === 'first-frame') need(a.frame !== undefined && JSON.stringify(a.frame).includes('{token}'), ['auth', 'frame'], 'must be a JSON template containing "{token}" with in: first-frame');
      if (a.in === 'auth') need(p.wire === 'socketio', ['auth', 'in'], '"auth" is the Socket.IO handshake field: use query, header, cookie or first-frame with wire json');
      if (a.jwt !== undefined && a.tokensFile !== undefined) need(false, ['auth', 'tokensFile'], 'is instead of jwt: give one of them');
      const alg = a.jwt?.alg ?? 'HS256';
      if (a.jwt !== undefined && alg.startsWith('HS')) need(a.jwt.secret !== undefined || a.jwt.privateKeyFile === undefined, ['auth', 'jwt', 'secret'], `is required for ${alg} (privateKeyFile is for RS256/ES256)`);
      if (a.jwt !== undefined && !alg.startsWith('HS')) need(a.jwt.privateKeyFile !== undefined, ['auth', 'jwt', 'privateKeyFile'], `is required for ${alg}`);
    }
  });

export type ProtocolProfile = z.infer<typeof protocolSchema>;
export type ReconnectSpec = NonNullable<ProtocolProfile['reconnect']>;
export type ReconnectObject = z.infer<typeof reconnectObjectSchema>;

/**
 * The reference servers' protocols (reference-server/socketio-server.ts, reference-server/json-wire.ts)
 * as profiles: a JWT (HS256, `WSB_JWT_SECRET`, claims `{sub, rooms:['*'], aud:'wsbench'}`) at the
 * handshake → `welcome {nodeId}`; `join {room}` → ack `{ok:true}`; `publish {room, payload}` → every
 * member gets `msg {room, payload}`. `jwt.secret` absent: the run's own secret.
 */
export const REFERENCE_PROFILES = {
  socketio: {
    wire: 'socketio',
    path: '/socket.io/',
    auth: { in: 'auth', name: 'token', jwt: { alg: 'HS256', claims: { rooms: ['*'], sub: '{user}', aud: 'wsbench' }, expiresInS: 3600 } },
    welcome: { event: 'welcome', nodeIdPath: 'args[0].nodeId' },
    join: { event: 'join', args: [{ room: '{room}' }], ack: true, okPath: 'ok', ok: true },
    publish: { event: 'publish', args: [{ room: '{room}', payload: '{payload}' }], payloadAs: 'object' },
    receive: { event: 'msg', stampPath: 'args[0].payload', roomPath: 'args[0].room' },
  },
  json: {
    wire: 'json',
    path: '/ws',
    auth: { in: 'query', name: 'token', jwt: { alg: 'HS256', claims: { rooms: ['*'], sub: '{user}', aud: 'wsbench' }, expiresInS: 3600 } },
    welcome: { match: { type: 'welcome' }, nodeIdPath: 'data.nodeId' },
    // One join per connection: a constant ack id is enough to pair the reply.
    join: { frame: { type: 'join', id: 1, data: { room: '{room}' } }, reply: { match: { type: 'ack', id: 1 } }, okPath: 'data.ok', ok: true },
    publish: { frame: { type: 'publish', data: { room: '{room}', payload: '{payload}' } }, payloadAs: 'object' },
    receive: { match: { type: 'msg' }, stampPath: 'data.payload', roomPath: 'data.room' },
  },
} as const satisfies Record<string, ProtocolProfile>;

/** The profile as the report stores it: `auth.jwt.secret` as "<redacted>". */
export function redactProfile(p: ProtocolProfile): ProtocolProfile {
  if (p.auth?.jwt?.secret === undefined) return p;
  return { ...p, auth: { ...p.auth, jwt: { ...p.auth.jwt, secret: REDACTED } } };
}

/** Whether clients of profile `p` sign with the run's own secret (`WSB_JWT_SECRET` with `url`): absent, the reference profiles, an HS* `jwt` without `secret`. */
export function usesRunSecret(p: ProtocolProfile | undefined): boolean {
  const j = p === undefined ? REFERENCE_PROFILES.socketio.auth.jwt : p.auth?.tokensFile === undefined ? p.auth?.jwt : undefined;
  return j !== undefined && (j.alg ?? 'HS256').startsWith('HS') && !('secret' in j && j.secret !== undefined);
}

/** The files a profile names (`auth.tokensFile`, `auth.jwt.privateKeyFile`, relative to the working directory) that cannot be read, or hold no token. */
export function profileFileProblems(p: ProtocolProfile | undefined): string[] {
  const out: string[] = [];
  const check = (key: string, file: string | undefined, needToken: boolean) => {
    if (file === undefined) return;
    try {
      const text = readFileSync(file, 'utf8');
      if (needToken && text.trim() === '') out.push(`${key}: ${file} holds no token (one per line)`);
    } catch (e) {
      out.push(`${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  check('protocol.auth.tokensFile', p?.auth?.tokensFile, true);
  check('protocol.auth.jwt.privateKeyFile', p?.auth?.jwt?.privateKeyFile, false);
  return out;
}

/** JSON with object keys sorted: equal for equal values, whatever order the keys were written in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Whether `p` is one of the reference profiles (deep equality, key order aside). */
export function isReferenceProfile(p: ProtocolProfile): boolean {
  const s = canonical(p);
  return s === canonical(REFERENCE_PROFILES.socketio) || s === canonical(REFERENCE_PROFILES.json);
}
