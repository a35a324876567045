export * from './types.js';
export * from './local-driver.js';
export * from './nginx-config.js';
export * from './managed-process.js';
export * from './ports.js';
export * from './wait.js';
export * from './chaos.js';
export * from './chaos-tally.js';
export * from './proc-stats.js';
export * from './docker-options.js';
export * from './clean.js';
export * from './process-identity.js';
export * from './external-driver.js';
export * from './insecure-checks.js';
export * from './create-driver.js';

/** The docker driver, loaded on demand: it brings testcontainers in, which a local run does not need. */
export async function createDockerDriver(opts?: ConstructorParameters<typeof import('./docker-driver.js').DockerDriver>[0]): Promise<import('./docker-driver.js').DockerDriver> {
  return new (await import('./docker-driver.js')).DockerDriver(opts);
}
export * from './node-args.js';
