/**
 * Settings of the docker driver, kept apart from the driver itself so that the CLI can validate
 * them without loading testcontainers.
 */

import { DOCKER_IMAGE_DEFAULTS, UPSTREAM_IMAGES } from '../config/defaults.js';

/** Default image per component (defined in config/defaults.ts): wsbench's own names. */
export { DOCKER_IMAGE_DEFAULTS, UPSTREAM_IMAGES };

/** A default image's official source: pulled and tagged with the default name when the default is missing. */
export function upstreamOf(ref: string): string | undefined {
  const k = (Object.keys(DOCKER_IMAGE_DEFAULTS) as Array<keyof typeof DOCKER_IMAGE_DEFAULTS>).find((c) => DOCKER_IMAGE_DEFAULTS[c] === ref);
  return k ? UPSTREAM_IMAGES[k] : undefined;
}

export interface DockerImages {
  /** Runs `redis-server` (default `wsbench/redis:7.4-bookworm`). */
  redis: string;
  /** Runs `nginx` (default `wsbench/nginx:1.28-bookworm`). */
  nginx: string;
  /** Runs `node` on the project's built reference server, bind-mounted read-only (default `wsbench/node:20-bookworm-slim`). */
  node: string;
}

export type DockerNetworkMode = 'host' | 'bridge';
export const DOCKER_NETWORK_CHOICES = ['auto', 'host', 'bridge'] as const;
export const DOCKER_PULL_CHOICES = ['missing', 'never'] as const;

export interface DockerDriverOptions {
  images: DockerImages;
  /** `auto` (default): host networking on a Linux engine on this machine, else a bridge network. */
  network: (typeof DOCKER_NETWORK_CHOICES)[number];
  /** `missing` (default): pull an image that is not present locally; `never`: fail with WSB_IMAGE_MISSING. */
  pull: (typeof DOCKER_PULL_CHOICES)[number];
}

export const DOCKER_DEFAULTS: DockerDriverOptions = { images: { ...DOCKER_IMAGE_DEFAULTS }, network: 'auto', pull: 'missing' };
