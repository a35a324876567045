import type { DockerDriverOptions } from './docker-options.js';
import { ExternalDriver, type ExternalTarget } from './external-driver.js';
import { LocalDriver } from './local-driver.js';
import type { ClusterDriver } from './types.js';

/** Which driver starts (or finds) the cluster, and its settings. */
export interface DriverChoice {
  /** `local` processes (default), `docker` containers, or an `external` cluster wsbench did not start. */
  driver: 'local' | 'docker' | 'external';
  /** Docker driver settings (images, network, pull policy); only with driver `docker`. */
  docker?: Partial<DockerDriverOptions>;
  /** `--url`: the running cluster to use; implies driver `external`. */
  external?: ExternalTarget;
}

/**
 * The cluster driver for a run. The docker driver (and testcontainers with it) is loaded only
 * when asked for: a local run does not need it.
 */
export async function createDriver(choice: DriverChoice): Promise<ClusterDriver> {
  if (choice.driver === 'docker') return new (await import('./docker-driver.js')).DockerDriver(choice.docker);
  if (choice.external) return new ExternalDriver(choice.external);
  return new LocalDriver();
}
