import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { SERVER_KINDS } from '../cluster/types.js';
import { redactArgv, redactCommand, redactEnv } from './redact.js';

/** Signals a user's node may be stopped with gracefully (`server.stop.signal`). */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Defaults of a user's server (`server: { … }`), in one place (docs/configuration.md lists them). */
export const USER_SERVER_DEFAULTS = {
  /** Readiness: a TCP accept on the node's port. */
  ready: { tcp: true } as const,
  /** Graceful stop signal. */
  stopSignal: 'SIGTERM' as StopSignal,
  /** ms between the stop signal and SIGKILL. */
  stopTimeoutMs: 10_000,
};

/** `[registry/]name[:tag][@digest]`, as docker accepts it. */
export const IMAGE_REF = /^[a-z0-9][a-z0-9._\/:@-]*$/i;

/** The user's server as the nodes (contract of issue 14: `server` in its object form). */
export const userServerSchema = z
  .object({
    /** local driver: the command starting ONE node; {port} {redisUrl} {nodeId}; a string runs through `sh -c`. */
    command: z.union([z.string().min(1), z.array(z.string()).min(1)]).optional(),
    /** docker driver: the image run once per node. */
    image: z.string().regex(IMAGE_REF, 'must be an image reference like my-chat:1.2').optional(),
    cwd: z.string().min(1).optional(),
    env: z.record(z.string()).optional(),
    ready: z
      .object({
        http: z.string().regex(/^\//, 'must be a path starting with /, e.g. /health').optional(),
        tcp: z.literal(true).optional(),
        log: z
          .string()
          .min(1)
          .refine((s) => {
            try {
              new RegExp(s);
              return true;
            } catch {
              return false;
            }
          }, 'must be a valid regular expression')
          .optional(),
      })
      .strict()
      .refine((r) => [r.http, r.tcp, r.log].filter((v) => v !== undefined).length <= 1, 'give one of http, tcp, log')
      .optional(),
    stop: z
      .object({ signal: z.enum(STOP_SIGNALS).optional(), timeoutMs: z.number().int().min(0).max(600_000).optional() })
      .strict()
      .optional(),
    metrics: z.string().regex(/^\//, 'must be a path starting with /, e.g. /metrics').optional(),
  })
  .strict();

export type UserServer = z.infer<typeof userServerSchema>;

/** `server`: a reference variant, or the user's server. */
export const serverSchema = z.union([z.enum(SERVER_KINDS), userServerSchema], {
  errorMap: (issue, ctx) =>
    issue.code === 'invalid_union'
      ? { message: `expected one of ${SERVER_KINDS.join(', ')}, or an object { command | image, cwd, env, ready, stop, metrics } (the user's server)` }
      : { message: ctx.defaultError },
});

/** How a user's node is found ready. */
export type ReadyCheck = { kind: 'tcp' } | { kind: 'http'; path: string } | { kind: 'log'; pattern: string };

/** A user's server, resolved: what the drivers run (cluster/user-node.ts, docker-driver.ts). */
export interface UserServerSpec {
  /** local driver: argv (a string command becomes `sh -c <command>`). */
  command?: string | string[];
  image?: string;
  /** Absolute folder the command runs in. */
  cwd: string;
  env: Record<string, string>;
  ready: ReadyCheck;
  stopSignal: StopSignal;
  stopTimeoutMs: number;
  /** Path of Prometheus metrics on each node; absent: node metrics unknown. */
  metrics?: string;
}

/** Resolves a validated `server` object: defaults applied, `cwd` made absolute against `baseDir`. */
export function resolveUserServer(s: UserServer, baseDir: string): UserServerSpec {
  const ready: ReadyCheck = s.ready?.http !== undefined ? { kind: 'http', path: s.ready.http } : s.ready?.log !== undefined ? { kind: 'log', pattern: s.ready.log } : { kind: 'tcp' };
  return {
    ...(s.command !== undefined ? { command: s.command } : {}),
    ...(s.image !== undefined ? { image: s.image } : {}),
    cwd: s.cwd === undefined ? baseDir : isAbsolute(s.cwd) ? s.cwd : resolve(baseDir, s.cwd),
    env: { ...(s.env ?? {}) },
    ready,
    stopSignal: s.stop?.signal ?? USER_SERVER_DEFAULTS.stopSignal,
    stopTimeoutMs: s.stop?.timeoutMs ?? USER_SERVER_DEFAULTS.stopTimeoutMs,
    ...(s.metrics !== undefined ? { metrics: s.metrics } : {}),
  };
}

export { SECRET_KEY } from './redact.js';

/** The `server` of the effective config, with secrets redacted (config/redact.ts): `env` values under a secret-like name, credentials in `command`. */
export function redactServer<T>(server: T): T {
  if (typeof server !== 'object' || server === null) return server;
  const s = server as UserServer;
  const command = typeof s.command === 'string' ? redactCommand(s.command) : Array.isArray(s.command) ? redactArgv(s.command) : s.command;
  return { ...s, ...(command !== undefined ? { command } : {}), ...(s.env ? { env: redactEnv(s.env) } : {}) } as T;
}

/** The command as shown in the report (`topology.serverCommand`). */
export function commandText(command: string | string[]): string {
  return typeof command === 'string' ? command : command.map((a) => (/^[\w@%+=:,./{}-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * A user's server as a report and cluster.json show it: the image under the docker driver, else
 * the command (credentials redacted, config/redact.ts).
 */
export function shownUserServer(u: Pick<UserServerSpec, 'command' | 'image'> | undefined, driver: string): { image: string } | { command: string } | undefined {
  if (!u) return undefined;
  if (driver === 'docker' && u.image !== undefined) return { image: u.image };
  return u.command !== undefined ? { command: redactCommand(commandText(u.command)) } : undefined;
}

/** Keys that configure wsbench's reference nodes and mean nothing to a user's server. */
const REFERENCE_ONLY = ['adapter', 'serverRateLimit', 'calibrationFault', 'insecureDisable', 'nodeImage'] as const;

/**
 * What is wrong with a user's `server` for this driver, beyond its own shape: the command (local) or
 * image (docker) that the driver runs, and reference-node keys given beside it.
 */
export function userServerProblems(s: UserServer, driver: 'local' | 'docker', serverName: string, given: (key: (typeof REFERENCE_ONLY)[number]) => boolean): Array<{ key: string; text: string }> {
  const out: Array<{ key: string; text: string }> = [];
  if (driver === 'local' && s.command === undefined) {
    out.push({
      key: 'server',
      text: `the local driver runs your server's command, and this server has none (got ${JSON.stringify(redactServer(s))}); add \`command: "node server.js --port {port}"\` (flag --server-command)${s.image !== undefined ? ', or run its image with driver: "docker"' : ''}`,
    });
  }
  if (driver === 'docker' && s.image === undefined) {
    out.push({
      key: 'server',
      text: `the docker driver runs your server's image, and this server has none (got ${JSON.stringify(redactServer(s))}); add \`image: "my-chat:1.2"\` (flag --server-image)${s.command !== undefined ? ', or run its command with driver: "local"' : ''}`,
    });
  }
  for (const k of REFERENCE_ONLY) if (given(k)) out.push({ key: k, text: `configures wsbench's reference nodes; it does not apply to your own ${serverName} (set it in your server)` });
  return out;
}
