/**
 * Settings of the docker driver, kept apart from the driver itself so that the CLI can validate
 * them without loading testcontainers.
 */

/**
 * Default image per component: the official images, pinned to a line (Redis 7.4, NGINX 1.28
 * stable, Node 20) on Debian 12. `scripts/build-local-images.sh` builds images under these names
 * from the machine's own binaries where no registry is reachable.
 */
export const DOCKER_IMAGE_DEFAULTS = {
  redis: 'redis:7.4-bookworm',
  nginx: 'nginx:1.28-bookworm',
  node: 'node:20-bookworm-slim',
} as const;

export interface DockerImages {
  /** Runs `redis-server` (default `redis:7.4-bookworm`). */
  redis: string;
  /** Runs `nginx` (default `nginx:1.28-bookworm`). */
  nginx: string;
  /** Runs `node` on the project's built reference server, bind-mounted read-only (default `node:20-bookworm-slim`). */
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
