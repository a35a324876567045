import type { LbPolicy } from '../cluster/nginx-config.js';
import type { ServerKind } from '../cluster/types.js';

/**
 * The images the docker driver runs, under wsbench's own names: `wsbench setup --tests` builds them
 * from this machine's binaries where no registry is reachable, and elsewhere the driver pulls the
 * official image (UPSTREAM_IMAGES) and tags it with this name. Never an official image's tag: a
 * local build must not shadow the real image on a machine that also pulls it.
 */
export const DOCKER_IMAGE_DEFAULTS = {
  redis: 'wsbench/redis:7.4-bookworm',
  nginx: 'wsbench/nginx:1.28-bookworm',
  node: 'wsbench/node:20-bookworm-slim',
} as const;

/** The official image each of DOCKER_IMAGE_DEFAULTS stands for (Redis 7.4, NGINX 1.28 stable, Node 20 on Debian 12); what Kubernetes manifests pull. */
export const UPSTREAM_IMAGES = {
  redis: 'redis:7.4-bookworm',
  nginx: 'nginx:1.28-bookworm',
  node: 'node:20-bookworm-slim',
} as const;

/**
 * Every run-level default, in ONE place (docs/configuration.md lists them). Scenario options carry
 * their own defaults in their zod schemas (scenarios/*.ts); the seed server limits are
 * SERVER_DEFAULTS (cluster/types.ts); the docker images are DOCKER_IMAGE_DEFAULTS.
 */
export const CONFIG_DEFAULTS = {
  /** Reference nodes behind NGINX. */
  nodes: 3,
  /** NGINX upstream policy; seed 001 uses ip_hash. */
  lbPolicy: 'ip_hash' as LbPolicy,
  /** Load-balancer port on 127.0.0.1; 0 picks a free port. */
  lbPort: 0,
  /** Cluster driver: `local` processes or `docker` containers. */
  driver: 'local' as 'local' | 'docker',
  /** Reference server variant: socketio, ws or bun. */
  server: 'socketio' as ServerKind,
  /** socket.io variant only: its cluster adapter. */
  adapter: 'redis' as 'redis' | 'redis-streams',
  /** ms each part of the cluster gets to become ready. */
  readyTimeout: 30_000,
  /** What drives the load: the Node engine (load/ workers) or k6. */
  engine: 'node' as 'node' | 'k6',
  /** `--driver docker`: images per component. */
  redisImage: DOCKER_IMAGE_DEFAULTS.redis as string,
  nginxImage: DOCKER_IMAGE_DEFAULTS.nginx as string,
  nodeImage: DOCKER_IMAGE_DEFAULTS.node as string,
  /** `--driver docker`: host networking, a bridge network, or auto (host on a Linux engine on this machine). */
  dockerNetwork: 'auto' as 'auto' | 'host' | 'bridge',
  /** `--driver docker`: pull images missing locally, or never. */
  dockerPull: 'missing' as 'missing' | 'never',
  /** Print the JSON report on stdout instead of the table. */
  json: false,
};
