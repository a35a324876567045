import { describe, expect, it } from 'vitest';
import { INSECURE_CHECKS as NODE_CHECKS } from '../reference-server/security.js';
import { INSECURE_CHECKS, insecureCheckProblems, insecureDisableArgs, insecureOverride, splitInsecureChecks } from './insecure-checks.js';
import { referenceNodeArgs } from './node-args.js';
import { clusterSpec, nodeProgram } from './docker-spec.js';
import { DOCKER_IMAGE_DEFAULTS } from './docker-options.js';
import { SERVER_DEFAULTS, type Topology } from './types.js';

const topology = (extra: Partial<Topology> = {}): Topology => ({
  server: 'socketio',
  nodes: 1,
  lb: 'nginx',
  lbPolicy: 'ip_hash',
  lbPort: 0,
  expectedConnections: 10,
  serverOptions: { ...SERVER_DEFAULTS },
  jwtSecret: 's',
  readyTimeoutMs: 1000,
  ...extra,
});

describe('--insecure-disable (harness side)', () => {
  it('knows the same checks as the reference server', () => {
    expect([...INSECURE_CHECKS]).toEqual([...NODE_CHECKS]);
  });

  it('splits, validates and passes the checks to every node, with the send-buffer limit', () => {
    expect(splitInsecureChecks(['auth,origin', ' auth'])).toEqual(['auth', 'origin']);
    expect(insecureCheckProblems(['auth', 'tls'])).toEqual([expect.stringMatching(/unknown check\(s\) 'tls'/)]);
    expect(insecureDisableArgs({})).toEqual([]);
    const args = referenceNodeArgs(topology({ insecureDisable: ['auth', 'buffer-limit'] }), { port: 1, host: '127.0.0.1', redisUrl: 'redis://x', nodeId: 'node-1' });
    expect(args.join(' ')).toContain('--max-buffered-bytes 4194304');
    expect(args.join(' ')).toContain('--insecure-disable auth,buffer-limit');
    expect(referenceNodeArgs(topology(), { port: 1, host: '127.0.0.1', redisUrl: 'redis://x', nodeId: 'node-1' })).not.toContain('--insecure-disable');
  });

  it('reaches the docker driver\'s node containers too (same argument builder)', () => {
    const t = topology({ insecureDisable: ['origin'] });
    const spec = clusterSpec({
      topology: t,
      runId: 'r1',
      runDir: '/runs/r1',
      mode: 'host',
      images: { ...DOCKER_IMAGE_DEFAULTS },
      ports: { redis: 7001, nodes: [7002], lb: 7005 },
      labels: () => ({}),
      appDir: '/src/wsbench',
      nodeProgram: nodeProgram(t, '/src/wsbench', () => '/unused'),
    });
    expect(spec.nodes[0].command.join(' ')).toContain('--insecure-disable origin');
    expect(spec.nodes[0].command.join(' ')).toContain('--max-buffered-bytes 4194304');
  });

  it('is recorded in the report as an override labelled test/calibration only', () => {
    expect(insecureOverride(undefined)).toEqual([]);
    expect(insecureOverride(['origin'])).toEqual([{ setting: 'insecureDisable', value: 'origin', seedDefault: 'none', why: expect.stringMatching(/^TEST\/CALIBRATION ONLY/) }]);
  });
});
