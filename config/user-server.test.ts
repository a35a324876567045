import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { buildPlan } from '../cli/plan.js';
import { fillPlaceholders, userNodeArgv, userNodeEnv } from '../cluster/user-node.js';
import { commandText, redactServer, resolveUserServer, shownUserServer } from './user-server.js';
import { REFERENCE_PROFILES } from './protocol.js';

const dir = () => mkdtempSync(join(tmpdir(), 'wsb-userserver-'));
/** A user's server needs a profile: these plans name the reference one (--protocol socketio). */
const SMALL = { connections: '60', rooms: '4', duration: '3', repeat: '1', protocol: 'socketio' };

function configFile(content: unknown): string {
  const f = join(dir(), 'wsbench.config.json');
  writeFileSync(f, JSON.stringify(content));
  return f;
}

function errorOf(fn: () => unknown): WsbenchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WsbenchError);
    return e as WsbenchError;
  }
  throw new Error('expected an error');
}

describe('server: the user\'s own server (config)', () => {
  it('a config `server` object: resolved with defaults, cwd the config file\'s folder, kept as given in the effective config', () => {
    const f = configFile({ server: { command: 'node server.js --port {port}', env: { LOG: 'debug' } } });
    const plan = buildPlan('cross-node-broadcast', { ...SMALL, config: f }, {});
    expect(plan.topology.userServer).toEqual({
      command: 'node server.js --port {port}',
      cwd: join(f, '..'),
      env: { LOG: 'debug' },
      ready: { kind: 'tcp' },
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 10_000,
    });
    // The generator speaks the socket.io reference protocol until a protocol profile says otherwise.
    expect(plan.topology.server).toBe('socketio');
    expect(plan.config.server).toEqual({ command: 'node server.js --port {port}', env: { LOG: 'debug' } });
    expect(plan.config.adapter).toBeUndefined();
    // The reference nodes' settings are not changed for (nor reported against) a user's server.
    expect(plan.serverOverrides).toEqual([]);
  });

  it('readiness, stop and metrics as configured; a relative cwd is against the config file', () => {
    const f = configFile({ server: { command: ['node', 'srv.js'], cwd: 'app', ready: { log: 'listening on \\d+' }, stop: { signal: 'SIGINT', timeoutMs: 2500 }, metrics: '/prom' } });
    mkdirSync(join(f, '..', 'app'));
    const u = buildPlan('cross-node-broadcast', { ...SMALL, config: f }, {}).topology.userServer!;
    expect(u).toMatchObject({ cwd: join(f, '..', 'app'), ready: { kind: 'log', pattern: 'listening on \\d+' }, stopSignal: 'SIGINT', stopTimeoutMs: 2500, metrics: '/prom' });
    expect(resolveUserServer({ command: 'x', ready: { http: '/health' } }, '/base').ready).toEqual({ kind: 'http', path: '/health' });
  });

  it('the effective config of a user server feeds back to the same plan', () => {
    const f = configFile({ server: { command: 'node s.js', ready: { http: '/health' } }, nodes: 2 });
    const first = buildPlan('cross-node-broadcast', { ...SMALL, config: f }, {});
    const again = buildPlan('cross-node-broadcast', { config: configFile(first.config) }, {});
    expect(again.config).toEqual({ ...first.config });
    expect(again.topology.userServer).toEqual({ ...first.topology.userServer, cwd: again.topology.userServer!.cwd });
  });

  it('--server-command is the flag form; it replaces a config\'s command and keeps the rest', () => {
    const plan = buildPlan('cross-node-broadcast', { ...SMALL, serverCommand: './run.sh {port}' }, {});
    expect(plan.topology.userServer!.command).toBe('./run.sh {port}');
    expect(plan.topology.userServer!.cwd).toBe(process.cwd());
    const f = configFile({ server: { command: 'old', env: { A: '1' } } });
    const merged = buildPlan('cross-node-broadcast', { ...SMALL, config: f, serverCommand: 'new' }, {});
    expect(merged.config.server).toEqual({ command: 'new', env: { A: '1' } });
    // It still runs where the config file put it: the file's folder (not where wsbench was started).
    expect(merged.topology.userServer!.cwd).toBe(join(f, '..'));
  });

  it('a server without the command (local) or the image (docker) its driver runs: WSB_CONFIG_INVALID naming the key', () => {
    const local = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ server: { image: 'chat:1' } }) }, {}));
    expect(local.code).toBe('WSB_CONFIG_INVALID');
    expect(local.message).toMatch(/server: the local driver runs your server's command, and this server has none/);
    expect(local.message).toMatch(/driver: "docker"/);
    const docker = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ driver: 'docker', server: { command: 'node s.js' } }) }, {}));
    expect(docker.code).toBe('WSB_CONFIG_INVALID');
    expect(docker.message).toMatch(/server: the docker driver runs your server's image, and this server has none/);
    expect(docker.hint).toMatch(/docs\/configuration\.md/);
  });

  it('bad shapes and reference-only keys are refused, each named', () => {
    const e = errorOf(() =>
      buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ server: { command: 'x', ready: { http: '/h', log: 'up' } }, adapter: 'redis-streams', serverRateLimit: 5 }) }, {}),
    );
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toMatch(/server: give one of http, tcp, log/);
    const e2 = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ server: { command: 'x' }, adapter: 'redis-streams', serverRateLimit: 5 }) }, {}));
    expect(e2.message).toMatch(/adapter: configures wsbench's reference nodes/);
    expect(e2.message).toMatch(/serverRateLimit: configures wsbench's reference nodes/);
    const e3 = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ server: 'nginx' }) }, {}));
    expect(e3.message).toMatch(/server: expected one of socketio, ws, bun, or an object/);
    const e4 = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ server: { command: 'x', stop: { signal: 'SIGKILL' } } }) }, {}));
    expect(e4.code).toBe('WSB_CONFIG_INVALID');
    const e5 = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ server: { command: 'x', ready: { log: '(' } } }) }, {}));
    expect(e5.message).toMatch(/valid regular expression/);
  });

  it('--server with --server-command, and --server-image without the docker driver, are refused', () => {
    const both = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, server: 'ws', serverCommand: 'x' }, {}));
    expect(both.code).toBe('WSB_INVALID_OPTION');
    const img = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, serverImage: 'chat:1' }, {}));
    expect(img.code).toBe('WSB_INVALID_OPTION');
    expect(img.message).toMatch(/--server: the local driver runs your server's command/);
    expect(buildPlan('cross-node-broadcast', { ...SMALL, serverImage: 'chat:1', driver: 'docker' }, {}).topology.userServer!.image).toBe('chat:1');
  });

  it('a user server\'s own WSB_JWT_SECRET is what the run signs with', () => {
    const f = configFile({ server: { command: 'x', env: { WSB_JWT_SECRET: 'mine' } } });
    expect(buildPlan('cross-node-broadcast', { ...SMALL, config: f }, {}).topology.jwtSecret).toBe('mine');
  });
});

describe('protocol beside a user\'s server', () => {
  const { protocol: _p, ...noProtocol } = SMALL;
  it('a user\'s server without a protocol is refused before anything starts, naming the reference profiles', () => {
    const fromConfig = errorOf(() => buildPlan('cross-node-broadcast', { ...noProtocol, config: configFile({ server: { command: 'node s.js' } }) }, {}));
    expect(fromConfig.code).toBe('WSB_CONFIG_INVALID');
    expect(fromConfig.message).toContain("protocol: your server (server) needs a protocol profile — how wsbench speaks to it: auth, join, publish, receive (docs/your-server.md); a server that speaks wsbench's reference protocol names it: protocol: 'socketio' or 'json' (flag --protocol socketio|json)");
    const fromFlag = errorOf(() => buildPlan('cross-node-broadcast', { ...noProtocol, serverCommand: 'node s.js' }, {}));
    expect(fromFlag.code).toBe('WSB_INVALID_OPTION');
    expect(fromFlag.message).toContain('protocol: your server (--server) needs a protocol profile');
  });
  it('a reference profile by name, from the config or --protocol, is that profile; a reference server needs none', () => {
    const named = buildPlan('cross-node-broadcast', { ...noProtocol, config: configFile({ server: { command: 'node s.js' }, protocol: 'json' }) }, {});
    expect(named.topology.protocol).toEqual(REFERENCE_PROFILES.json);
    expect(buildPlan('cross-node-broadcast', { ...noProtocol, serverCommand: 'node s.js', protocol: 'socketio' }, {}).topology.protocol).toEqual(REFERENCE_PROFILES.socketio);
    expect(buildPlan('cross-node-broadcast', { ...noProtocol, server: 'ws' }, {}).topology.protocol).toBeUndefined();
    expect(errorOf(() => buildPlan('cross-node-broadcast', { ...noProtocol, serverCommand: 'x', protocol: 'mqtt' }, {})).message).toContain('protocol');
  });
});

describe('user server helpers', () => {
  it('placeholders, argv and environment of one node', () => {
    const v = { port: 4100, redisUrl: 'redis://127.0.0.1:6400', nodeId: 'node-2' };
    expect(fillPlaceholders('--port {port} --redis {redisUrl} --id {nodeId} {other}', v)).toBe('--port 4100 --redis redis://127.0.0.1:6400 --id node-2 {other}');
    expect(userNodeArgv('node s.js -p {port}', v)).toEqual({ command: '/bin/sh', args: ['-c', 'node s.js -p 4100'] });
    expect(userNodeArgv(['node', 's.js', '--id={nodeId}'], v)).toEqual({ command: 'node', args: ['s.js', '--id=node-2'] });
    const spec = resolveUserServer({ command: 'x', env: { PORT: '1', A: 'b', CLUSTER_REDIS: '{redisUrl}/0' } }, '/');
    const env = userNodeEnv(spec, v, 'run-1', 'sec', { PATH: '/bin' });
    expect(env).toEqual({ PATH: '/bin', WSB_JWT_SECRET: 'sec', A: 'b', CLUSTER_REDIS: 'redis://127.0.0.1:6400/0', PORT: '4100', REDIS_URL: 'redis://127.0.0.1:6400', NODE_ID: 'node-2', WSB_RUN_ID: 'run-1' });
  });

  it('a secret in env starts the nodes as given but is redacted in the effective config (--dry-run, the report)', () => {
    const f = configFile({ server: { command: 'node server.js', env: { JWT_SECRET: 's3cret', LOG: 'debug' } } });
    const plan = buildPlan('cross-node-broadcast', { ...SMALL, config: f }, {});
    expect(plan.topology.userServer!.env).toEqual({ JWT_SECRET: 's3cret', LOG: 'debug' });
    expect(plan.config.server).toEqual({ command: 'node server.js', env: { JWT_SECRET: '<redacted>', LOG: 'debug' } });
  });

  it('an invalid server names what is wrong without printing the secrets of its env', () => {
    const noCommand = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ server: { env: { DB_PASSWORD: 'hunter2' } } }) }, {}));
    expect(noCommand.message).toMatch(/has none/);
    const badReady = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: configFile({ server: { command: 'x', ready: { http: 3 }, env: { DB_PASSWORD: 'hunter2' } } }) }, {}));
    expect(badReady.code).toBe('WSB_CONFIG_INVALID');
    for (const e of [noCommand, badReady]) {
      expect(e.message).not.toContain('hunter2');
      expect(e.message).toContain('<redacted>');
    }
  });

  it('secrets in env are redacted for the report; the command is shown as typed', () => {
    expect(redactServer({ command: 'x', env: { API_KEY: 'k', DB_PASSWORD: 'p', jwtSecret: 's', AUTH_TOKEN: 't', LOG: 'debug' } })).toEqual({
      command: 'x',
      env: { API_KEY: '<redacted>', DB_PASSWORD: '<redacted>', jwtSecret: '<redacted>', AUTH_TOKEN: '<redacted>', LOG: 'debug' },
    });
    expect(redactServer('socketio')).toBe('socketio');
    expect(commandText(['node', 'my server.js', '--port', '{port}'])).toBe("node 'my server.js' --port {port}");
  });
});

describe('server.cwd', () => {
  it('a cwd that does not exist is refused before anything starts', () => {
    const f = configFile({ server: { command: 'node s.js', cwd: 'no-such-folder' } });
    const e = errorOf(() => buildPlan('cross-node-broadcast', { ...SMALL, config: f }, {}));
    expect(e.code).toBe('WSB_CONFIG_INVALID');
    expect(e.message).toBe(`server.cwd: folder ${join(f, '..', 'no-such-folder')} does not exist (your server's command runs there)`);
  });
});

describe('shownUserServer (report and cluster.json)', () => {
  it('the image under docker, else the command with its credentials redacted', () => {
    expect(shownUserServer({ command: 'node s.js --token=abc', image: 'chat:1' }, 'docker')).toEqual({ image: 'chat:1' });
    expect(shownUserServer({ command: 'node s.js --token=abc', image: 'chat:1' }, 'local')).toEqual({ command: 'node s.js --token=<redacted>' });
    expect(shownUserServer({ command: ['node', 's.js', '--api-key', 'k'] }, 'docker')).toEqual({ command: 'node s.js --api-key <redacted>' });
    expect(shownUserServer({ image: 'chat:1' }, 'local')).toBeUndefined();
    expect(shownUserServer(undefined, 'local')).toBeUndefined();
  });
});
