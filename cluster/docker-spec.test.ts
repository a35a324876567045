import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { APP_DIR, clusterSpec, linkedDirsOf, nodeProgram, type ClusterSpecInput } from './docker-spec.js';
import { chooseNetworkMode } from './docker-engine.js';
import { DOCKER_IMAGE_DEFAULTS } from './docker-options.js';
import { SERVER_DEFAULTS, type Topology } from './types.js';
import { referenceNodeArgs } from './node-args.js';

const topology: Topology = {
  server: 'socketio',
  nodes: 3,
  lb: 'nginx',
  lbPolicy: 'least_conn',
  lbPort: 0,
  expectedConnections: 300,
  serverOptions: { ...SERVER_DEFAULTS, rateLimit: 730 },
  jwtSecret: 'secret',
  readyTimeoutMs: 30_000,
};

function input(mode: 'host' | 'bridge'): ClusterSpecInput {
  return {
    topology,
    runId: 'r1',
    runDir: '/runs/r1',
    mode,
    images: { ...DOCKER_IMAGE_DEFAULTS },
    ports: { redis: 7001, nodes: [7002, 7003, 7004], lb: 7005 },
    labels: (component) => ({ wsbench: 'true', 'wsbench.run': 'r1', 'wsbench.component': component }),
    appDir: '/src/wsbench',
    nodeProgram: nodeProgram(topology, '/src/wsbench', () => '/unused'),
  };
}

describe('docker cluster spec', () => {
  it('host networking: every part listens on the 127.0.0.1 port the harness chose, nothing is published', () => {
    const s = clusterSpec(input('host'));
    expect(s.networkName).toBeUndefined();
    for (const c of [s.redis, ...s.nodes, s.nginx]) {
      expect(c.network).toEqual({ mode: 'host' });
      expect(c.ports).toEqual([]);
      expect(c.labels['wsbench.run']).toBe('r1');
      expect(c.name).toBe(`wsb-r1-${c.component}`);
    }
    expect(s.redis.command.slice(0, 4)).toEqual(['--port', '7001', '--bind', '127.0.0.1']);
    expect(s.redisUrlInside).toBe('redis://127.0.0.1:7001');
    expect(s.nodes.map((n) => n.component)).toEqual(['node-1', 'node-2', 'node-3']);
    const n2 = s.nodes[1];
    expect(n2.entrypoint).toEqual(['node']);
    expect(n2.command).toEqual(expect.arrayContaining([`${APP_DIR}/dist/reference-server/main.js`, '--server', 'socketio']));
    const arg = (flag: string) => n2.command[n2.command.indexOf(flag) + 1];
    expect([arg('--port'), arg('--host'), arg('--redis'), arg('--node-id'), arg('--rate-limit')]).toEqual(['7003', '127.0.0.1', 'redis://127.0.0.1:7001', 'node-2', '730']);
    // The secret travels by environment, not on the command line (docker inspect / ps show argv).
    expect(n2.command.join(' ')).not.toContain('secret');
    expect(n2.env.WSB_JWT_SECRET).toBe('secret');
    expect(n2.binds).toEqual([{ source: '/src/wsbench', target: APP_DIR, mode: 'ro' }]);
    expect(s.nginxConf).toContain('listen 127.0.0.1:7005');
    for (const p of [7002, 7003, 7004]) expect(s.nginxConf).toContain(`server 127.0.0.1:${p} max_fails=0;`);
    expect(s.nginx.binds).toEqual([{ source: '/runs/r1/nginx', target: '/runs/r1/nginx', mode: 'rw' }]);
    expect(s.nginx.command).toEqual(['-p', '/runs/r1/nginx', '-c', '/runs/r1/nginx/nginx.conf', '-e', '/runs/r1/nginx/error.log']);
  });

  it('bridge networking: parts reach each other by alias on usual ports, and publish the chosen host ports', () => {
    const s = clusterSpec(input('bridge'));
    expect(s.networkName).toBe('wsb-r1');
    expect(s.redis.network).toEqual({ mode: 'bridge', name: 'wsb-r1', alias: 'redis' });
    expect(s.redis.ports).toEqual([{ container: 6379, host: 7001 }]);
    expect(s.redisUrlInside).toBe('redis://redis:6379');
    expect(s.nodes[2].ports).toEqual([{ container: 3000, host: 7004 }]);
    expect(s.nodes[2].command).toEqual(expect.arrayContaining(['--host', '0.0.0.0', '--redis', 'redis://redis:6379']));
    expect(s.nginx.ports).toEqual([{ container: 8080, host: 7005 }]);
    expect(s.nginxConf).toContain('listen 0.0.0.0:8080');
    expect(s.nginxConf).toContain('server node-3:3000 max_fails=0;');
    expect([s.redis, ...s.nodes, s.nginx].map((c) => c.hostPort)).toEqual([7001, 7002, 7003, 7004, 7005]);
  });

  it('runs the bun variant with the bun binary from the mounted node_modules, and refuses one outside the package', () => {
    const bun = { ...topology, server: 'bun' as const };
    expect(nodeProgram(bun, '/src/wsbench', () => '/src/wsbench/node_modules/bun/bin/bun.exe')).toEqual({
      entrypoint: [`${APP_DIR}/node_modules/bun/bin/bun.exe`],
      args: [`${APP_DIR}/dist/reference-server/bun-main.js`],
    });
    expect(nodeProgram({ ...topology, server: 'ws' }, '/src/wsbench', () => '/unused').args).toEqual([`${APP_DIR}/dist/reference-server/main.js`, '--server', 'ws']);
    let code: string | undefined;
    try {
      nodeProgram(bun, '/src/wsbench', () => '/usr/local/bin/bun');
    } catch (e) {
      code = (e as WsbenchError).code;
    }
    expect(code).toBe('WSB_MISSING_BINARY');
  });

  it('a node_modules linked outside the package root (a git worktree) is mounted at its own path, so the link resolves in the container', () => {
    const links: Record<string, string> = { '/work/wt/a': '/work/wt/a', '/work/wt/a/node_modules': '/work/main/node_modules', '/src/wsbench/node_modules': '/src/wsbench/node_modules' };
    const real = (p: string) => links[p] ?? null;
    expect(linkedDirsOf('/work/wt/a', real)).toEqual(['/work/main/node_modules']);
    expect(linkedDirsOf('/src/wsbench', real)).toEqual([]);
    expect(linkedDirsOf('/nowhere', real)).toEqual([]);
    const s = clusterSpec({ ...input('host'), appDir: '/work/wt/a', linkedDirs: ['/work/main/node_modules'] });
    for (const n of s.nodes) {
      expect(n.binds).toEqual([
        { source: '/work/wt/a', target: APP_DIR, mode: 'ro' },
        { source: '/work/main/node_modules', target: '/work/main/node_modules', mode: 'ro' },
      ]);
    }
  });

  it('passes --adapter to the socket.io nodes when the topology names one (both drivers use referenceNodeArgs)', () => {
    const args = (t: Topology) => referenceNodeArgs(t, { port: 1, host: '127.0.0.1', redisUrl: 'redis://127.0.0.1:2', nodeId: 'node-1' });
    expect(args({ ...topology, adapter: 'redis-streams' }).slice(-2)).toEqual(['--adapter', 'redis-streams']);
    expect(args({ ...topology, adapter: 'redis' }).slice(-2)).toEqual(['--adapter', 'redis']);
    expect(args(topology)).not.toContain('--adapter');
    expect(args({ ...topology, server: 'ws' })).not.toContain('--adapter');
    const s = clusterSpec({ ...input('host'), topology: { ...topology, adapter: 'redis-streams' } });
    for (const n of s.nodes) expect(n.command.slice(n.command.indexOf('--adapter'), n.command.indexOf('--adapter') + 2)).toEqual(['--adapter', 'redis-streams']);
  });
});

describe('docker network mode', () => {
  const linux = { platform: 'linux' as NodeJS.Platform, osType: 'linux', operatingSystem: 'Debian GNU/Linux 12 (bookworm)', rootless: false, remote: false };

  it('uses host networking on a Linux engine on this machine, a bridge elsewhere', () => {
    expect(chooseNetworkMode('auto', linux).mode).toBe('host');
    expect(chooseNetworkMode('auto', { ...linux, platform: 'darwin' }).mode).toBe('bridge');
    expect(chooseNetworkMode('auto', { ...linux, operatingSystem: 'Docker Desktop' }).mode).toBe('bridge');
    expect(chooseNetworkMode('auto', { ...linux, rootless: true }).mode).toBe('bridge');
    expect(chooseNetworkMode('auto', { ...linux, remote: true }).mode).toBe('bridge');
    expect(chooseNetworkMode('auto', { ...linux, osType: 'windows' }).mode).toBe('bridge');
  });

  it('obeys --docker-network', () => {
    expect(chooseNetworkMode('bridge', linux)).toEqual({ mode: 'bridge', why: 'forced with --docker-network bridge' });
    expect(chooseNetworkMode('host', { ...linux, operatingSystem: 'Docker Desktop' }).mode).toBe('host');
  });
});
