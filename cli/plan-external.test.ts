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

  it('a chaos scenario needs a hook per action it takes: WSB_CHAOS_HOOK_MISSING names the action and the config key, before anything starts', () => {
    const e = error(() => buildPlan('redis-outage', { url: 'http://127.0.0.1:8080' }, ENV));
    expect(e.code).toBe('WSB_CHAOS_HOOK_MISSING');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('redis-outage needs stop-redis (chaos.hooks.stopRedis), start-redis (chaos.hooks.startRedis), and the cluster was not started by wsbench (--url): no hook is set for them');
    expect(e.hint).toMatch(/^set chaos\.hooks\.stopRedis, chaos\.hooks\.startRedis in the config/);
    const file = { scenario: 'node-kill', chaos: { hooks: { killNode: 'kill -9 $(cat /tmp/{node}.pid)' } } };
    const withRestart = error(() => buildPlan('node-kill', { config: 'c.json', url: 'http://127.0.0.1:8080', nodeUrls: ['http://127.0.0.1:3001,http://127.0.0.1:3002'], restartAfter: '2' }, ENV, file));
    expect(withRestart.code).toBe('WSB_CHAOS_HOOK_MISSING');
    expect(withRestart.message).toContain('start-node (chaos.hooks.startNode)');
    expect(withRestart.message).not.toContain('killNode');
  });

  it('node-kill with its hook plans driver external carrying the hooks; node actions need --node-urls', () => {
    const file = { scenario: 'node-kill', chaos: { hooks: { killNode: 'kill -9 $(cat /tmp/{node}.pid)' } } };
    const p = buildPlan('node-kill', { config: 'c.json', url: 'http://127.0.0.1:8080', nodeUrls: ['http://127.0.0.1:3001,http://127.0.0.1:3002'] }, ENV, file);
    expect(p.external).toEqual({ url: 'http://127.0.0.1:8080', nodeUrls: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'], hooks: { killNode: 'kill -9 $(cat /tmp/{node}.pid)' } });
    expect(p.config.chaos).toEqual({ hooks: { killNode: 'kill -9 $(cat /tmp/{node}.pid)' } });
    const e = error(() => buildPlan('node-kill', { config: 'c.json', url: 'http://127.0.0.1:8080' }, ENV, file));
    expect(e.code).toBe('WSB_INVALID_OPTION');
    expect(e.hint).toContain('--node-urls');
  });

  it('hook commands keep their credentials for running them, and show them redacted in the effective config (the dry-run and the report)', () => {
    const killNode = 'curl -fsS -H "Authorization: Bearer abc.def" -X POST https://ops.example/kill/{node} --token=t0p DEPLOY_SECRET=s3 && echo ok';
    const p = buildPlan('node-kill', { config: 'c.json', url: 'http://127.0.0.1:8080', nodeUrls: ['http://127.0.0.1:3001'] }, ENV, { scenario: 'node-kill', chaos: { hooks: { killNode } } });
    expect(p.external!.hooks!.killNode).toBe(killNode);
    expect(p.config.chaos).toEqual({ hooks: { killNode: 'curl -fsS -H "Authorization: Bearer <redacted>" -X POST https://ops.example/kill/{node} --token=<redacted> DEPLOY_SECRET=<redacted> && echo ok' } });
  });

  it('chaos.hooks and tls without --url, an unknown hook key, a missing CA file and tls on a plain URL are config problems', () => {
    const e = error(() => buildPlan('cross-node-broadcast', { config: 'c.json' }, ENV, { scenario: 'cross-node-broadcast', chaos: { hooks: { killNode: 'x' } }, tls: { insecure: true } }));
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toContain('chaos: chaos.hooks only applies with --url');
    expect(e.message).toContain('tls: only applies with --url');
    const f = error(() =>
      buildPlan('cross-node-broadcast', { config: 'c.json' }, ENV, { scenario: 'cross-node-broadcast', url: 'ws://127.0.0.1:8080', chaos: { hooks: { killPod: 'x' } }, tls: { ca: '/nonexistent/ca.pem' } }),
    );
    expect(f.message).toMatch(/chaos: .*killPod/);
    const g = error(() => buildPlan('cross-node-broadcast', { config: 'c.json' }, ENV, { scenario: 'cross-node-broadcast', url: 'ws://127.0.0.1:8080', tls: { ca: '/nonexistent/ca.pem' } }));
    expect(g.message).toContain('tls: only applies to wss:// or https:// URLs (got ws://127.0.0.1:8080)');
    expect(g.message).toContain('tls: ca: cannot read /nonexistent/ca.pem (ENOENT)');
  });

  it('parses a non-loopback wss:// URL with --insecure (parsing only: nothing is contacted) and notes the skipped verification', () => {
    const p = buildPlan('cross-node-broadcast', { url: 'wss://ws.example.com', insecure: true }, ENV);
    expect(p.external).toEqual({ url: 'wss://ws.example.com', nodeUrls: [], tls: { rejectUnauthorized: false } });
    expect(p.config.tls).toEqual({ insecure: true });
    expect(p.notes?.[0]).toBe('INSECURE TLS (--insecure / tls.insecure): the certificate of wss://ws.example.com was NOT verified');
    const q = error(() => buildPlan('cross-node-broadcast', { url: 'https://10.0.0.7:8443', insecure: true, ca: '/x.pem' }, ENV));
    expect(q.message).toContain('--ca/--insecure: give either ca or insecure, not both');
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
