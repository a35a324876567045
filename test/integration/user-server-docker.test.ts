/**
 * The user's own server as the nodes of the docker driver (`server.image`, issue 14 part 1): an
 * image built here FROM the locally built node image (no registry), holding the reference server
 * bundled into one file and started from PORT / REDIS_URL / NODE_ID as a user's image would be.
 * Host networking: all traffic stays on 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectEngine, LABELS, listLabelled, type EngineInfo } from '../../cluster/docker-engine.js';
import { DOCKER_IMAGE_DEFAULTS } from '../../cluster/docker-options.js';
import { distEntry } from '../../common/paths.js';
import type { RunReport } from '../../model/run-report.js';
import { wsbench } from './support/cli.js';

const IMAGE = 'wsbench-test/user-server:1';
let engine: EngineInfo;

/** The start script of the image: the reference server's flags from the environment the driver gives. */
const START = `process.argv.splice(1, process.argv.length - 1, '/app/server.mjs', '--server', 'socketio', '--host', '127.0.0.1', '--rate-limit', '100000',
  '--port', process.env.PORT, '--redis', process.env.REDIS_URL, '--node-id', process.env.NODE_ID);
console.log('user image starting ' + process.env.NODE_ID);
await import('./server.mjs');
`;

beforeAll(async () => {
  engine = await connectEngine();
  const ctx = mkdtempSync(join(tmpdir(), 'wsb-user-image-'));
  await esbuild.build({
    entryPoints: [distEntry('reference-server/main.js')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(ctx, 'server.mjs'),
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'silent',
  });
  // The server names its dependencies' versions from their package.json files.
  const req = createRequire(distEntry('reference-server/main.js'));
  for (const p of ['socket.io', '@socket.io/redis-adapter', 'ioredis']) {
    mkdirSync(join(ctx, 'node_modules', p), { recursive: true });
    copyFileSync(req.resolve(`${p}/package.json`), join(ctx, 'node_modules', p, 'package.json'));
  }
  writeFileSync(join(ctx, 'start.mjs'), START);
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${DOCKER_IMAGE_DEFAULTS.node}\nCOPY . /app\nWORKDIR /app\nENTRYPOINT ["node", "/app/start.mjs"]\n`);
  const b = spawnSync('docker', ['build', '-q', '-t', IMAGE, ctx], { encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  expect(b.status, `${b.stdout}${b.stderr}`).toBe(0);
}, 120_000);

describe('server.image on the docker driver', () => {
  it('node-kill against the user image: ready by its log line, the killed container started again and ready, loss classified, nothing left', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-user-image-run-'));
    const config = join(out, 'wsbench.config.json');
    writeFileSync(config, JSON.stringify({ driver: 'docker', dockerNetwork: 'host', protocol: 'socketio', server: { image: IMAGE, ready: { log: '"event":"listening"' }, env: { API_TOKEN: 'not-stored' } } }));
    const r = await wsbench(['run', 'node-kill', '--config', config, '--connections', '150', '--rooms', '5', '--rate', '5', '--warmup', '1', '--drain', '2', '--duration', '8', '--kill-at', '2', '--node', 'node-2', '--out', out]);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    expect(rep.error, r.stderr).toBeUndefined();
    expect(rep.topology).toMatchObject({ driver: 'docker', server: 'custom', serverImage: IMAGE });
    expect(rep.topology.versions['image:server']).toContain(IMAGE);
    // The secret-looking env value is not stored in the report.
    expect((rep.config as { server: { env: Record<string, string> } }).server.env).toEqual({ API_TOKEN: '<redacted>' });
    expect(rep.events.find((e) => e.type === 'kill-node')).toMatchObject({ target: 'node-2', outcome: 'ok' });
    expect(rep.reconnection!.neverBack).toBe(0);
    expect(rep.reconnection!.reconnected).toBe(rep.reconnection!.disconnections);
    expect(rep.accounting.losses!.lostConnected).toBe(0);
    expect(rep.windows!.after.accounting.lost).toBe(0);
    expect(Object.keys(rep.connectionsPerNode).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    // The environment the driver gave each container reached the image's own entrypoint.
    for (const n of ['node-1', 'node-2', 'node-3']) expect(readFileSync(join(out, 'logs', `${n}.log`), 'utf8')).toContain(`user image starting ${n}`);
    expect(await listLabelled(engine.client, `${LABELS.run}=${rep.runId}`)).toEqual([]);
  });

  it('a user image without readiness in time: WSB_SERVER_NOT_READY, exit 2, no container left', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsb-user-image-notready-'));
    const config = join(out, 'wsbench.config.json');
    writeFileSync(config, JSON.stringify({ driver: 'docker', dockerNetwork: 'host', protocol: 'socketio', server: { image: IMAGE, ready: { http: '/no-such-path' } } }));
    const r = await wsbench(['run', 'cross-node-broadcast', '--config', config, '--nodes', '2', '--ready-timeout', '3000', '--repeat', '1', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WSB_SERVER_NOT_READY/);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    expect(await listLabelled(engine.client, `${LABELS.run}=${rep.runId}`)).toEqual([]);
  });
});
