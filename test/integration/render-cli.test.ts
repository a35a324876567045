/**
 * `wsbench render` and `wsbench tokens` through the real bin (autocannon's CLI tests): exit
 * codes, YAML on stdout that Kubernetes' schemas accept, one file per object with --out, coded
 * errors. No Kubernetes is here, and nothing is contacted: the manifests are only written.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../common/binaries.js';
import { resolveK6Path } from '../../engines/k6/binary.js';
import { NGINX_PREFIX } from '../../render/cluster.js';
import { parseManifests, validateObject } from '../support/k8s-validate.js';
import { wsbench } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'wsb-render-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, WSB_JWT_SECRET: '', ...extra });

describe('wsbench render (the real bin)', () => {
  it('render cluster prints one YAML stream on stdout whose every object validates; exit 0', async () => {
    const r = await wsbench(['render', 'cluster', 'cross-node-broadcast', '--nodes', '2', '--namespace', 'load'], { env: env({ WSB_JWT_SECRET: 'from-env' }) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const docs = parseManifests(r.stdout);
    expect(docs.map((d) => d.kind)).toEqual(['Secret', 'Deployment', 'Service', 'Deployment', 'Service', 'Deployment', 'Service', 'ConfigMap', 'Deployment', 'Service']);
    expect(docs.every((d) => d.metadata.namespace === 'load')).toBe(true);
    for (const d of docs) expect(validateObject(d), `${d.kind} ${d.metadata.name}`).toEqual([]);
    expect(docs[0].stringData).toEqual({ WSB_JWT_SECRET: 'from-env' });
    expect(r.stdout).toMatch(/^# rendered by wsbench: render cluster\n/);
  });

  it('render node-job --out <folder>: one file per object in apply order, and the notes; exit 0', async () => {
    const out = join(dir, 'node-job');
    const r = await wsbench(['render', 'node-job', 'cross-node-broadcast', '--parallelism', '4', '--out', out], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`render node-job: 4 objects written to ${out}`);
    const files = readdirSync(out).sort();
    expect(files).toEqual([
      '01-persistentvolumeclaim-wsbench-cross-node-broadcast-results.yaml',
      '02-configmap-wsbench-cross-node-broadcast-config.yaml',
      '03-job-wsbench-cross-node-broadcast.yaml',
      '04-job-wsbench-cross-node-broadcast-merge.yaml',
      'README.txt',
    ]);
    for (const f of files.filter((x) => x.endsWith('.yaml'))) {
      const [doc] = parseManifests(readFileSync(join(out, f), 'utf8'));
      expect(validateObject(doc), f).toEqual([]);
    }
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain('shard pods');
  });

  const k6 = resolveK6Path(undefined, process.env).path;
  it.skipIf(!k6)(`render k6-operator with the local k6's version: a TestRun valid against the CRD${k6 ? '' : ' (skipped: k6 not on PATH and K6_BIN not set)'}`, async () => {
    const r = await wsbench(['render', 'k6-operator', 'connection-capacity', '--parallelism', '2', '--connections', '1000'], { env: env() });
    expect(r.code).toBe(0);
    const docs = parseManifests(r.stdout);
    expect(docs.map((d) => d.kind)).toEqual(['PersistentVolumeClaim', 'ConfigMap', 'TestRun']);
    for (const d of docs) expect(validateObject(d), d.kind).toEqual([]);
    expect(docs[2].spec.parallelism).toBe(2);
  });

  it('bad input: a coded error and its hint on stderr, exit 2, nothing on stdout', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['render', 'pods'], /^error WSB_INVALID_OPTION: render: unknown kind 'pods'\nhint: kinds: cluster, k6-operator, node-job\n$/],
      [['render', 'node-job'], /^error WSB_INVALID_OPTION: render node-job needs a scenario/],
      [['render', 'node-job', 'redis-outage'], /^error WSB_EXTERNAL_UNSUPPORTED: redis-outage stops and starts Redis/],
      [['render', 'cluster', '--nodes', 'many'], /^error WSB_INVALID_OPTION: invalid options for render cluster:\n  - --nodes: must be a whole number from 1 to 32 \(got "many"\)/],
      [['render', 'k6-operator', 'cross-node-broadcast', '--k6-version', 'x.y'], /--k6-version: 'x\.y' is not a k6 version/],
      [['render', 'cluster', '--lb-policy', 'random'], /^error WSB_INVALID_OPTION: invalid value/],
    ];
    for (const [args, want] of cases) {
      const r = await wsbench(args, { env: env() });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(want);
      expect(r.stderr).toMatch(/\nhint: /);
    }
  });

  it('render --help names the kinds and the docs page', async () => {
    const r = await wsbench(['render', '--help'], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: wsbench render \[options\] <kind> \[scenario\]/);
    for (const k of ['cluster [scenario]', 'k6-operator <scenario>', 'node-job <scenario>', 'docs/kubernetes.md', '--k6-version', '--parallelism', '--start-at']) expect(r.stdout).toContain(k);
  });
});

describe('wsbench tokens (what a k6-operator runner\'s init container runs)', () => {
  it('writes <count> HS256 tokens signed with WSB_JWT_SECRET, sub k6-<index>; exit 0', async () => {
    const file = join(dir, 'tokens.json');
    const r = await wsbench(['tokens', '3', '--out', file], { env: env({ WSB_JWT_SECRET: 'k8s-secret' }) });
    expect(r.code).toBe(0);
    const tokens = JSON.parse(readFileSync(file, 'utf8')) as string[];
    expect(tokens).toHaveLength(3);
    tokens.forEach((t, i) => {
      const [h, p, sig] = t.split('.');
      expect(createHmac('sha256', 'k8s-secret').update(`${h}.${p}`).digest('base64url')).toBe(sig);
      expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toMatchObject({ sub: `k6-${i}` });
    });
  });

  it('without WSB_JWT_SECRET, or with a bad count: WSB_INVALID_OPTION, exit 2, no file', async () => {
    const file = join(dir, 'none.json');
    for (const [args, e] of [[['tokens', '3', '--out', file], {}], [['tokens', 'lots', '--out', file], { WSB_JWT_SECRET: 'x' }]] as const) {
      const r = await wsbench([...args], { env: env(e) });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error WSB_INVALID_OPTION: tokens: /);
    }
    expect(readdirSync(dir)).not.toContain('none.json');
  });
});

describe('the rendered NGINX config, checked by a real nginx (nginx -t)', () => {
  const nginx = findBinary('nginx');
  it.skipIf(!nginx)(`the sidecar's config of render node-job passes nginx -t${nginx ? '' : ' (skipped: no nginx; wsbench setup installs it)'}`, async () => {
    // Loopback upstreams, so nginx -t resolves no name off this machine; the prefix (an emptyDir in
    // the pod) becomes a temp folder, and `user nginx` (the image's user) this machine's own user.
    const r = await wsbench(['render', 'node-job', 'cross-node-broadcast', '--upstream', '127.0.0.1:3001', '--upstream', '127.0.0.1:3002'], { env: env() });
    expect(r.code).toBe(0);
    const cm = parseManifests(r.stdout).find((d) => d.kind === 'ConfigMap')!;
    const prefix = join(dir, 'nginx');
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, 'tmp', d), { recursive: true });
    const user = execFileSync('id', ['-un']).toString().trim();
    const conf = (cm.data['nginx.conf'] as string).replaceAll(NGINX_PREFIX, prefix).replace(/^user nginx;$/m, `user ${user};`);
    expect(conf).toMatch(/server 127\.0\.0\.1:3001 max_fails=0;\s*server 127\.0\.0\.1:3002 max_fails=0;/);
    writeFileSync(join(prefix, 'nginx.conf'), conf);
    const out = execFileSync(nginx!, ['-t', '-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    expect(out).toBe('');
    expect(readFileSync(join(prefix, 'error.log'), 'utf8')).not.toMatch(/\[emerg\]/);
  });
});
