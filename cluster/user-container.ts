/**
 * The user's own server as the nodes of the docker driver (`server: { image, … }`, issue 14 part
 * 1): the image run once per node with its own entrypoint and command, the same environment as the
 * local driver gives a command (PORT, REDIS_URL, NODE_ID, `env`), ready by TCP accept, HTTP 2xx or a
 * line of its output, stopped with its configured signal.
 */
import { Wait } from 'testcontainers';
import type { UserServerSpec } from '../config/user-server.js';
import type { Readiness } from './component-container.js';
import { for2xxOnHost, forTcpOnHost } from './container-wait.js';
import type { ContainerSpec } from './docker-spec.js';
import { fillEnv, RUN_ID_ENV } from './user-node.js';

/** A reference node's container spec turned into the user's: their image, its own command, their environment. */
export function userNodeSpec(reference: ContainerSpec, u: UserServerSpec, o: { port: number; redisUrl: string; jwtSecret: string; runId: string }): ContainerSpec {
  return {
    ...reference,
    image: u.image!,
    // Empty: the image's own ENTRYPOINT and CMD.
    entrypoint: [],
    command: [],
    env: { WSB_JWT_SECRET: o.jwtSecret, ...fillEnv(u.env, { port: o.port, redisUrl: o.redisUrl, nodeId: reference.component }), PORT: String(o.port), REDIS_URL: o.redisUrl, NODE_ID: reference.component, [RUN_ID_ENV]: o.runId },
    binds: [],
    workingDir: undefined,
    stop: { signal: u.stopSignal, timeoutMs: u.stopTimeoutMs },
  };
}

/** The readiness of a user's node container, probed from the host at `host:port`. */
export function userNodeReadiness(u: UserServerSpec, host: string, port: number): Readiness {
  return {
    code: 'WSB_SERVER_NOT_READY',
    strategy: () =>
      u.ready.kind === 'http' ? for2xxOnHost(`http://${host}:${port}${u.ready.path}`) : u.ready.kind === 'log' ? Wait.forLogMessage(new RegExp(u.ready.pattern)) : forTcpOnHost(host, port),
  };
}
