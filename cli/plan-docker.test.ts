import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { DOCKER_IMAGE_DEFAULTS } from '../cluster/docker-options.js';
import { buildPlan } from './plan.js';

function errorOf(fn: () => unknown): WsbenchError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof WsbenchError) return e;
    throw e;
  }
  return undefined;
}

describe('buildPlan: --driver docker', () => {
  it('defaults to the local driver with the default docker settings unused', () => {
    const plan = buildPlan('cross-node-broadcast', {});
    expect(plan.driver).toBe('local');
    expect(plan.docker).toEqual({ images: { ...DOCKER_IMAGE_DEFAULTS }, network: 'auto', pull: 'missing' });
  });

  it('takes the driver, images, network and pull policy from flags', () => {
    const plan = buildPlan('cross-node-broadcast', { driver: 'docker', redisImage: 'registry.local:5000/redis:7.4', dockerNetwork: 'host', dockerPull: 'never' });
    expect(plan.driver).toBe('docker');
    expect(plan.docker.images).toEqual({ ...DOCKER_IMAGE_DEFAULTS, redis: 'registry.local:5000/redis:7.4' });
    expect(plan.docker.network).toBe('host');
    expect(plan.docker.pull).toBe('never');
  });

  it('rejects docker flags with the local driver, a bad image reference and an unknown driver, all at once', () => {
    const e = errorOf(() => buildPlan('cross-node-broadcast', { nginxImage: 'nginx:1.28', dockerNetwork: 'bridge' }));
    expect(e?.code).toBe('WSB_INVALID_OPTION');
    expect(e?.message).toContain('--nginx-image: only applies with --driver docker');
    expect(e?.message).toContain('--docker-network: only applies with --driver docker');
    const bad = errorOf(() => buildPlan('cross-node-broadcast', { driver: 'docker', nodeImage: 'no spaces allowed' }));
    expect(bad?.message).toMatch(/--node-image: must be an image reference/);
    expect(errorOf(() => buildPlan('cross-node-broadcast', { driver: 'kubernetes' }))?.message).toMatch(/--driver: /);
  });
});
