import { describe, expect, it } from 'vitest';
import { buildPlan } from './plan.js';
import { WsbenchError } from '../common/errors.js';

const ENV = { WSB_JWT_SECRET: 'the-cluster-secret' };

function error(fn: () => unknown): WsbenchError {
  try {
    fn();
  } catch (e) {
    return e as WsbenchError;
  }
  throw new Error('did not throw');
}

describe('buildPlan: --url (a cluster wsbench did not start)', () => {
  it('plans driver external with the cluster secret from WSB_JWT_SECRET and no server overrides', () => {
    const p = buildPlan('cross-node-broadcast', { url: 'http://127.0.0.1:8080', nodeUrls: ['http://127.0.0.1:3001,http://127.0.0.1:3002'] }, ENV);
    expect(p.driver).toBe('external');
    expect(p.external).toEqual({ url: 'http://127.0.0.1:8080', nodeUrls: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'] });
    expect(p.topology.jwtSecret).toBe('the-cluster-secret');
    expect(p.topology.nodes).toBe(2);
    // cross-node-broadcast would raise the nodes' rate limit; an external cluster keeps its own, and the report says so.
    expect(p.serverOverrides).toEqual([]);
    expect(p.topology.serverOptions.rateLimit).toBe(100);
    expect(p.notes?.[0]).toMatch(/^--url: the cluster keeps its own settings; on a cluster it starts, wsbench would set rateLimit = 730/);
  });

  it('refuses chaos scenarios with WSB_EXTERNAL_UNSUPPORTED naming what they do', () => {
    const e = error(() => buildPlan('redis-outage', { url: 'http://127.0.0.1:8080' }, ENV));
    expect(e.code).toBe('WSB_EXTERNAL_UNSUPPORTED');
    expect(e.message).toBe('redis-outage stops and starts Redis, which wsbench cannot do to a cluster it did not start (--url)');
    expect(e.hint).toMatch(/^drop --url .*: cross-node-broadcast, connection-capacity, throughput, security-probes$/);
  });

  it('names every flag that does not apply with --url, and a missing secret, in one WSB_INVALID_OPTION', () => {
    const e = error(() => buildPlan('cross-node-broadcast', { url: 'http://127.0.0.1:8080', lbPort: '9000', serverRateLimit: '500', insecureDisable: ['auth'] }, {}));
    expect(e.code).toBe('WSB_INVALID_OPTION');
    expect(e.message).toContain('--lb-port: does not apply with --url');
    expect(e.message).toContain('--server-rate-limit: does not apply with --url');
    expect(e.message).toContain('--insecure-disable: does not apply with --url');
    expect(e.message).toContain('WSB_JWT_SECRET');
  });
});

describe('buildPlan: --insecure-disable (test/calibration only)', () => {
  it('puts the checks on the topology (for every node) and refuses unknown ones', () => {
    expect(buildPlan('security-probes', { insecureDisable: ['auth,origin', 'auth'] }).topology.insecureDisable).toEqual(['auth', 'origin']);
    expect(buildPlan('security-probes', {}).topology.insecureDisable).toBeUndefined();
    const e = error(() => buildPlan('security-probes', { insecureDisable: ['tls'] }));
    expect(e.code).toBe('WSB_INVALID_OPTION');
    expect(e.message).toContain("--insecure-disable: unknown check(s) 'tls'");
  });

  it('security-probes judges one target per probe family plus node health, and the background broadcast\'s loss while connected', () => {
    expect(buildPlan('security-probes', {}).targets.map((t) => t.id)).toEqual([
      'probe-auth',
      'probe-origin',
      'probe-size-limit',
      'probe-rate-limit',
      'probe-room-auth',
      'probe-slow-consumer',
      'probe-nodes-up',
      'no-loss-while-connected',
    ]);
  });
});
