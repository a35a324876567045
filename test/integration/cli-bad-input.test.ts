/**
 * Bad input through the real bin: each case ends with its coded error, a hint, exit 2, and no
 * process of the run left (checked in /proc: every child of the CLI carries the test's tag in its
 * environment, or lives in the run folder). The cases the older CLI tests cover (unknown scenario,
 * bad flag values, malformed config) are in cli.test.ts.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../common/binaries.js';
import { wsbench, type CliResult } from './support/cli.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

const PRELOAD = fileURLToPath(new URL('./support/preload/', import.meta.url));
const SMALL = ['--connections', '40', '--rooms', '4', '--duration', '1', '--warmup', '0', '--drain', '0'];

/** Runs the CLI tagged, asserts code + hint + exit 2 + nothing left; resolves with the result. */
async function expectCoded(code: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & { out: string }> {
  const out = mkdtempSync(join(tmpdir(), 'wsb-bad-'));
  const tag = newTag();
  const r = await wsbench([...args, '--out', out], { env: { ...process.env, ...env, WSB_TEST_TAG: tag } });
  expect(r.stderr).toContain(`error ${code}: `);
  expect(r.stderr).toMatch(/\nhint: \S/);
  expect(r.code).toBe(2);
  expect(describePids(await waitNoRunProcesses({ tag, dir: out }))).toEqual([]);
  return { ...r, out };
}

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

describe('bad input → coded error, hint, exit 2, nothing left running', () => {
  it('invalid flag values and combinations are refused before anything starts (WSB_INVALID_OPTION)', async () => {
    const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
      [['--insecure-disable', 'auth,firewall'], /--insecure-disable: unknown check\(s\) 'firewall'/],
      // Parsing only (nothing is contacted): any host is accepted, the scheme and the path are checked.
      [['--url', 'ftp://10.1.2.3:8080'], /--url: 'ftp:\/\/10\.1\.2\.3:8080' must be an http:\/\/, https:\/\/, ws:\/\/ or wss:\/\/ URL/, { WSB_JWT_SECRET: 's' }],
      [['--url', 'http://127.0.0.1:9', '--ca', '/nonexistent/ca.pem'], /--ca\/--insecure: only applies to wss:\/\/ or https:\/\/ URLs/, { WSB_JWT_SECRET: 's' }],
      [['--url', 'not a url'], /--url: 'not a url' is not a URL/, { WSB_JWT_SECRET: 's' }],
      [['--url', 'http://127.0.0.1:9', '--lb-port', '8080'], /--lb-port: does not apply with --url/, { WSB_JWT_SECRET: 's' }],
      [['--url', 'http://127.0.0.1:9', '--insecure-disable', 'auth'], /--insecure-disable: does not apply with --url/, { WSB_JWT_SECRET: 's' }],
      [['--url', 'http://127.0.0.1:9'], /--url: put the cluster's JWT secret in the environment variable WSB_JWT_SECRET/, { WSB_JWT_SECRET: '' }],
      [['--node-urls', 'http://127.0.0.1:9'], /--node-urls: only applies with --url/],
      [['--ready-timeout', '10'], /--ready-timeout: Number must be greater than or equal to 1000/],
      [['--driver', 'local', '--node-image', 'node:20'], /--node-image: only applies with --driver docker/],
    ];
    for (const [args, re, env] of cases) {
      const r = await expectCoded('WSB_INVALID_OPTION', ['run', 'cross-node-broadcast', ...args], env);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
  });

  it('--lb-port already in use: WSB_PORT_IN_USE naming the port', async () => {
    const busy = createServer();
    servers.push(busy);
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const r = await expectCoded('WSB_PORT_IN_USE', ['run', 'cross-node-broadcast', '--lb-port', String(port), ...SMALL]);
    expect(r.stderr).toContain(`load balancer port 127.0.0.1:${port} is already in use`);
    expect(r.stderr).toContain('hint: choose another --lb-port');
  });

  it('redis-server, nginx or k6 missing (PATH stripped, no extra folders): WSB_MISSING_BINARY / WSB_K6_NOT_FOUND', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'wsb-path-'));
    const hide = { PATH: empty, WSB_EXTRA_BIN_DIRS: '', K6_BIN: '' };
    const noRedis = await expectCoded('WSB_MISSING_BINARY', ['run', 'cross-node-broadcast', ...SMALL], hide);
    expect(noRedis.stderr).toContain('error WSB_MISSING_BINARY: redis-server was not found on PATH');
    expect(noRedis.stderr).toContain('hint: run `npx wsbench setup`');

    // redis-server found, nginx not.
    const onlyRedis = join(empty, 'redis-only');
    mkdirSync(onlyRedis);
    symlinkSync(findBinary('redis-server')!, join(onlyRedis, 'redis-server'));
    const noNginx = await expectCoded('WSB_MISSING_BINARY', ['run', 'cross-node-broadcast', ...SMALL], { ...hide, PATH: onlyRedis });
    expect(noNginx.stderr).toContain('error WSB_MISSING_BINARY: nginx was not found on PATH');

    const noK6 = await expectCoded('WSB_K6_NOT_FOUND', ['run', 'cross-node-broadcast', '--engine', 'k6', ...SMALL], hide);
    expect(noK6.stderr).toMatch(/hint: .*k6/);
  });

  it('--url that nothing answers: WSB_TARGET_UNREACHABLE with a hint', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await expectCoded('WSB_TARGET_UNREACHABLE', ['run', 'cross-node-broadcast', '--url', `http://127.0.0.1:${port}`, ...SMALL], { WSB_JWT_SECRET: 'secret' });
    expect(r.stderr).toContain(`the cluster at http://127.0.0.1:${port} does not answer (GET /health: ECONNREFUSED)`);
    expect(r.stderr).toContain('hint: start the cluster first, or fix --url');
  });

  it('--url with a chaos scenario and no hook for its actions: WSB_CHAOS_HOOK_MISSING naming the action and the config key, before anything starts', async () => {
    const cases: Array<[string, string]> = [
      ['node-kill', 'kill-node (chaos.hooks.killNode)'],
      ['redis-outage', 'stop-redis (chaos.hooks.stopRedis), start-redis (chaos.hooks.startRedis)'],
      ['rolling-restart', 'stop-node (chaos.hooks.stopNode), start-node (chaos.hooks.startNode)'],
      ['reconnection-storm', 'stop-lb (chaos.hooks.stopLb), start-lb (chaos.hooks.startLb)'],
    ];
    for (const [scenario, needs] of cases) {
      const r = await expectCoded('WSB_CHAOS_HOOK_MISSING', ['run', scenario, '--url', 'http://127.0.0.1:9'], { WSB_JWT_SECRET: 'secret' });
      expect(r.stderr).toContain(`error WSB_CHAOS_HOOK_MISSING: ${scenario} needs ${needs}, and the cluster was not started by wsbench (--url)`);
      expect(r.stderr).toMatch(/hint: set chaos\.hooks\./);
    }
  });

  it('an output folder that cannot be made: WSB_OUT_UNUSABLE naming the path and the reason, no hang on /proc', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/etc/passwd/x', /error WSB_OUT_UNUSABLE: --out \/etc\/passwd\/x: \/etc\/passwd is a file, not a folder/],
      // Node's recursive mkdirSync loops forever on procfs: the check must answer instead.
      ['/proc/nope', /error WSB_OUT_UNUSABLE: --out \/proc\/nope: \/proc is a kernel pseudo-filesystem/],
      ['/sys/wsbench-nope/run', /error WSB_OUT_UNUSABLE: --out \/sys\/wsbench-nope\/run: \/sys is a kernel pseudo-filesystem/],
    ];
    for (const [out, re] of cases) {
      const tag = newTag();
      const r = await wsbench(['run', 'cross-node-broadcast', ...SMALL, '--out', out], { env: { ...process.env, WSB_TEST_TAG: tag } });
      expect(r.stderr, out).toMatch(re);
      expect(r.stderr).toContain('hint: choose a folder you can write to for --out');
      expect(r.code).toBe(2);
      // Refused before anything started: no cluster line, no process of the run.
      expect(r.stderr).not.toContain('starting cluster');
      expect(describePids(await waitNoRunProcesses({ tag }))).toEqual([]);
    }
  });

  it('a node that never prints its listening line: WSB_NODE_NOT_READY after --ready-timeout', async () => {
    const r = await expectCoded('WSB_NODE_NOT_READY', ['run', 'cross-node-broadcast', '--ready-timeout', '1000', ...SMALL], {
      NODE_OPTIONS: `--require ${join(PRELOAD, 'silent-reference-node.cjs')}`,
    });
    expect(r.stderr).toMatch(/error WSB_NODE_NOT_READY: node-\d not ready after 1000 ms/);
    expect(r.stderr).toContain("hint: see the node-");
  });

  it('a node that exits because of a bad option: WSB_PROCESS_EXITED with its last output', async () => {
    const r = await expectCoded('WSB_PROCESS_EXITED', ['run', 'cross-node-broadcast', ...SMALL], {
      NODE_OPTIONS: `--require ${join(PRELOAD, 'bad-option-reference-node.cjs')}`,
    });
    expect(r.stderr).toMatch(/error WSB_PROCESS_EXITED: node-\d exited \(code 2, signal null\) before it was ready/);
    expect(r.stderr).toContain("Unknown option '--no-such-option'");
  });
});
