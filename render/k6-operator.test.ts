import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../common/paths.js';
import { resolveK6Path } from '../engines/k6/binary.js';
import { prepareK6 } from '../engines/k6/engine.js';
import { k6Command } from '../engines/k6/command.js';
import { K6_ADAPTERS } from '../engines/k6/scenarios.js';
import { buildRender } from '../cli/render-plan.js';
import { crdSchema, parseManifests, validateObject } from '../test/support/k8s-validate.js';
import { toYaml, type K8sObject } from './k8s.js';
import { runnerCommand, SCRIPT_KEY, segmentWarning } from './k6-operator.js';

const run = promisify(execFile);
const fixture = (f: string) => join(packageRoot(), 'fixtures', 'k8s', 'k6-operator', f);
const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

/** The k6 the tests that run one use (K6_BIN, else k6 on PATH), as the k6 engine's own tests find it. */
const K6 = resolveK6Path(undefined, process.env).path;
const NO_K6 = '(skipped: k6 not on PATH and K6_BIN not set)';

describe('the k6-operator CRD fixture and its own samples', () => {
  it('the CRD is the TestRun of k6.io/v1alpha1 with parallelism and script required', () => {
    const s = crdSchema() as { properties: { spec: { required: string[]; properties: Record<string, unknown> } } };
    expect(s.properties.spec.required).toEqual(['parallelism', 'script']);
    expect(Object.keys(s.properties.spec.properties)).toEqual(expect.arrayContaining(['args', 'runner', 'initializer', 'separate']));
  });

  it("the operator's samples with a script object validate; the one with `script: k6-test` (a string) does not", () => {
    for (const f of ['k6_v1alpha1_testrun.yaml', 'k6_v1alpha1_testrun_with_args.yaml']) {
      for (const doc of parseManifests(readFileSync(fixture(f), 'utf8'))) expect(validateObject(doc), f).toEqual([]);
    }
    const [bad] = parseManifests(readFileSync(fixture('k6_v1alpha1_testrun_with_output.yaml'), 'utf8'));
    expect(validateObject(bad)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/spec\/script must be object/)]));
  });
});

describe('render k6-operator', () => {
  const flags = { k6Version: '0.48.0', parallelism: '3', connections: '600', nodes: '3' };

  it('renders the results claim, the ConfigMap with script and environment, and the TestRun; every object validates', async () => {
    const r = await buildRender('k6-operator', 'cross-node-broadcast', flags, {});
    expect(r.objects.map((o) => o.kind)).toEqual(['PersistentVolumeClaim', 'ConfigMap', 'TestRun']);
    for (const o of r.objects) expect(validateObject(o), `${o.kind} ${o.metadata.name}`).toEqual([]);
    // And as Kubernetes reads the YAML back (1.1): the same objects, every one still valid.
    const docs = parseManifests(toYaml(r));
    expect(docs).toEqual(r.objects);
  });

  it('the TestRun runs parallelism runners on the ConfigMap script, every WSB_* variable read from the ConfigMap', async () => {
    const r = await buildRender('k6-operator', 'cross-node-broadcast', flags, {});
    const [cm] = byKind(r.objects, 'ConfigMap');
    const [tr] = byKind(r.objects, 'TestRun') as Array<K8sObject & { spec: any }>;
    expect(tr.spec.parallelism).toBe(3);
    expect(tr.spec.script).toEqual({ configMap: { name: cm.metadata.name, file: SCRIPT_KEY } });
    const data = cm.data as Record<string, string>;
    const plan = JSON.parse(data.WSB_PLAN);
    expect(plan).toMatchObject({ scenario: 'cross-node-broadcast', connections: 600 });
    expect(data.WSB_URL).toBe('ws://wsbench-lb:8080');
    const env = tr.spec.runner.env as Array<{ name: string; value?: string; valueFrom?: any }>;
    for (const k of ['WSB_URL', 'WSB_PROTOCOL', 'WSB_TOKENS_FILE', 'WSB_PLAN', 'WSB_THRESHOLDS']) {
      expect(env.find((e) => e.name === k)?.valueFrom).toEqual({ configMapKeyRef: { name: cm.metadata.name, key: k } });
    }
    // No secret in the ConfigMap or in k6's environment: only the init container minting the tokens reads it.
    expect(JSON.stringify(cm)).not.toMatch(/WSB_JWT_SECRET/);
    expect(env.map((e) => e.name)).not.toContain('WSB_JWT_SECRET');
    const [init] = tr.spec.runner.initContainers;
    expect(init.command).toEqual(['wsbench', 'tokens', '600']);
    expect(init.env).toEqual([{ name: 'WSB_JWT_SECRET', valueFrom: { secretKeyRef: { name: 'wsbench-jwt', key: 'WSB_JWT_SECRET' } } }]);
  });

  it('each runner writes files named after itself ($(WSB_RUNNER) = its job-name label) into the claim, under the TestRun\'s folder', async () => {
    const r = await buildRender('k6-operator', 'cross-node-broadcast', flags, {});
    const [tr] = byKind(r.objects, 'TestRun') as Array<K8sObject & { spec: any }>;
    const env = tr.spec.runner.env as Array<{ name: string; value?: string; valueFrom?: any }>;
    expect(env[0]).toEqual({ name: 'WSB_RUNNER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['job-name']" } } });
    expect(env.find((e) => e.name === 'WSB_SUMMARY_JSON')?.value).toBe('/results/$(WSB_RUNNER).summary.json');
    expect(tr.spec.args).toEqual(expect.arrayContaining(['--out', 'json=/results/$(WSB_RUNNER).samples.json.gz', '--summary-export', '/results/$(WSB_RUNNER).summary-export.json']));
    expect(tr.spec.runner.volumeMounts).toContainEqual({ name: 'results', mountPath: '/results', subPath: 'wsbench-cross-node-broadcast' });
    expect(tr.spec.runner.volumes).toContainEqual({ name: 'results', persistentVolumeClaim: { claimName: 'wsbench-cross-node-broadcast-results' } });
    // k6 (uid 12345 in grafana/k6) must read the tokens the init container writes (0600) and write the claim.
    expect(tr.spec.runner.securityContext).toEqual({ runAsUser: 12345, runAsGroup: 12345, fsGroup: 12345 });
    const [pvc] = byKind(r.objects, 'PersistentVolumeClaim') as Array<K8sObject & { spec: any }>;
    expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
  });

  it("the runner's arguments and variables are the local engine's command, less what a pod cannot use", async () => {
    const plan = K6_ADAPTERS['cross-node-broadcast'].plan({ connections: 300 }, { nodes: 3 });
    const thresholds = { deliveries_duplicated: ['count==0'] };
    const { args, vars } = runnerCommand({ url: 'http://wsbench-lb:8080', protocol: 'ws' }, plan, thresholds);
    const local = k6Command({ k6Path: 'k6', scriptPath: '/x.js', runDir: '/r', url: 'http://wsbench-lb:8080', protocol: 'ws', tokensFile: '/wsbench-tokens/tokens.json', plan, thresholds });
    const localVars = Object.fromEntries(local.args.filter((_, i) => local.args[i - 1] === '-e').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    delete localVars.WSB_SUMMARY_JSON;
    expect(vars).toEqual(localVars);
    const stats = local.args[local.args.indexOf('--summary-trend-stats') + 1];
    expect(args.slice(0, 2)).toEqual(['--summary-export', '/results/$(WSB_RUNNER).summary-export.json']);
    expect(args).toContain(stats);
    expect(args).not.toContain('--local-ips');
    expect(args).not.toContain('-e');
  });

  it('a bad option is refused with WSB_INVALID_OPTION naming the flag; a chaos scenario with WSB_EXTERNAL_UNSUPPORTED', async () => {
    await expect(buildRender('k6-operator', 'cross-node-broadcast', { ...flags, parallelism: '0', name: 'Bad_Name' }, {})).rejects.toMatchObject({
      code: 'WSB_INVALID_OPTION',
      message: expect.stringMatching(/--name: 'Bad_Name'[\s\S]*--parallelism: must be a whole number/),
    });
    await expect(buildRender('k6-operator', 'reconnection-storm', flags, {})).rejects.toMatchObject({ code: 'WSB_EXTERNAL_UNSUPPORTED' });
    await expect(buildRender('k6-operator', 'cross-node-broadcast', { ...flags, parallelism: '1000' }, {})).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining('VUs') });
    await expect(buildRender('k6-operator', 'cross-node-broadcast', { ...flags, k6Version: 'latest' }, {})).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining('--k6-version') });
    await expect(buildRender('k6-operator', undefined, flags, {})).rejects.toMatchObject({ code: 'WSB_INVALID_OPTION', message: expect.stringContaining('needs a scenario') });
  });

  it('--cpu / --memory become each runner\'s requests, valid against the CRD', async () => {
    const r = await buildRender('k6-operator', 'cross-node-broadcast', { ...flags, cpu: '2', memory: '1Gi' }, {});
    const [tr] = byKind(r.objects, 'TestRun') as Array<K8sObject & { spec: any }>;
    expect(tr.spec.runner.resources).toEqual({ requests: { cpu: '2', memory: '1Gi' } });
    expect(validateObject(tr)).toEqual([]);
  });

  it('a TestRun the schema rejects is caught: a misspelt runner field, a string parallelism', async () => {
    const r = await buildRender('k6-operator', 'connection-capacity', flags, {});
    const [tr] = byKind(r.objects, 'TestRun') as Array<K8sObject & { spec: any }>;
    const bad = structuredClone(tr);
    bad.spec.runner.volumeMount = bad.spec.runner.volumeMounts;
    bad.spec.parallelism = '3';
    expect(validateObject(bad)).toEqual(expect.arrayContaining(['/spec/parallelism must be integer', '/spec/runner must NOT have additional properties: volumeMount']));
  });
});

describe('runners and execution segments', () => {
  it('warns when a script deals connections by __VU alone (per runner under segments) and there is more than one runner', () => {
    const byVu = 'for (const g of connectionsOfVu(__VU, plan)) {}';
    const byIdInTest = 'for (const g of connectionsOfVu(exec.vu.idInTest, plan)) {}';
    expect(segmentWarning(byVu, 2)).toMatch(/^WARNING: .*parallelism 2 every runner would open the same first connections/);
    expect(segmentWarning(byVu, 1)).toBeNull();
    expect(segmentWarning(byIdInTest, 4)).toBeNull();
  });

  it('the warning heads the notes of a render whose script has it', async () => {
    const r = await buildRender('k6-operator', 'cross-node-broadcast', { k6Version: '0.48.0', parallelism: '2' }, {});
    const script = (byKind(r.objects, 'ConfigMap')[0].data as Record<string, string>)[SCRIPT_KEY];
    const w = segmentWarning(script, 2);
    expect(r.notes[0]).toBe(w ?? r.notes[0]);
    expect(r.notes.filter((n) => n.startsWith('WARNING')).length).toBe(w ? 1 : 0);
  });
});

describe('the rendered script is the script the local k6 engine runs', () => {
  const out = mkdtempSync(join(tmpdir(), 'wsb-render-k6-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const k6 = K6;

  for (const scenario of ['cross-node-broadcast', 'connection-capacity']) {
    it.skipIf(!k6)(`${scenario}: byte for byte, for the local k6's version (prepareK6 with the real k6)${k6 ? '' : ` ${NO_K6}`}`, async () => {
      const prep = await prepareK6({ scenario, options: {}, nodes: 3, k6Path: k6!, outDir: out });
      const v = prep.k6.version;
      const r = await buildRender('k6-operator', scenario, { k6: k6!, parallelism: '2' }, {});
      const [cm] = byKind(r.objects, 'ConfigMap');
      const script = (cm.data as Record<string, string>)[SCRIPT_KEY];
      expect(Buffer.from(script).equals(readFileSync(prep.script.path))).toBe(true);
      // …and the version it took is the local k6's: the runner image is pinned to it.
      const [tr] = byKind(r.objects, 'TestRun') as Array<K8sObject & { spec: any }>;
      expect(tr.spec.runner.image).toBe(`grafana/k6:${v.major}.${v.minor}.${v.patch}`);
    });
  }

  it('the module names follow --k6-version: v0.48 experimental websockets, v1.6 k6/websockets', async () => {
    const old = await buildRender('k6-operator', 'cross-node-broadcast', { k6Version: '0.48.0' }, {});
    const modern = await buildRender('k6-operator', 'cross-node-broadcast', { k6Version: 'v1.6.0' }, {});
    const script = (r: typeof old) => (byKind(r.objects, 'ConfigMap')[0].data as Record<string, string>)[SCRIPT_KEY];
    expect(script(old)).toMatch(/from "k6\/experimental\/websockets"/);
    expect(script(modern)).toMatch(/from "k6\/websockets"/);
    expect(script(modern)).not.toMatch(/k6\/experimental\//);
  });
});

describe("what the operator's initializer does with the rendered TestRun, with the real k6", () => {
  const k6 = K6;
  const dir = mkdtempSync(join(tmpdir(), 'wsb-render-init-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * The initializer (k6-operator pkg/resources/jobs/initializer.go, `spec.args` case): `k6 archive
   * <script> -e NAME=$(NAME)… -O <archive> <args without --out>` (pkg/types/k6cli.go drops the
   * outputs), then `k6 inspect --execution-requirements <archive>`. The kubelet expands $(NAME)
   * from the runner's env; here the test does, from the ConfigMap. The tokens come from `wsbench
   * tokens`, as the init container makes them.
   */
  it.skipIf(!k6)(`k6 archive + k6 inspect accept the script, its environment and arguments; the VUs are the plan's${k6 ? '' : ` ${NO_K6}`}`, async () => {
    const r = await buildRender('k6-operator', 'cross-node-broadcast', { k6: k6!, parallelism: '2', connections: '400' }, {});
    const [cm] = byKind(r.objects, 'ConfigMap');
    const [tr] = byKind(r.objects, 'TestRun') as Array<K8sObject & { spec: any }>;
    const data = cm.data as Record<string, string>;
    const scriptPath = join(dir, SCRIPT_KEY);
    writeFileSync(scriptPath, data[SCRIPT_KEY]);
    const tokens = join(dir, 'tokens.json');
    await run(process.execPath, [join(packageRoot(), 'bin', 'wsbench.js'), 'tokens', '400', '--out', tokens], { env: { ...process.env, WSB_JWT_SECRET: 'test-secret' } });
    const values: Record<string, string> = { WSB_RUNNER: 'wsbench-cross-node-broadcast-initializer', ...data, WSB_TOKENS_FILE: tokens };
    const expand = (s: string) => s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => values[n] ?? m);
    const envArgs = (tr.spec.runner.env as Array<{ name: string; value?: string }>).flatMap((e) => ['-e', `${e.name}=${expand(e.value ?? values[e.name] ?? '')}`]);
    const args = tr.spec.args as string[];
    const archiveArgs = args.filter((a, i) => a !== '--out' && args[i - 1] !== '--out').map(expand);
    const archive = join(dir, 'test.js.archived.tar');
    await run(k6!, ['archive', scriptPath, ...envArgs, '-O', archive, ...archiveArgs], { env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } });
    const inspect = await run(k6!, ['inspect', '--execution-requirements', archive], { env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } });
    const req = JSON.parse(inspect.stdout) as { maxVUs: number; totalDuration: string };
    const plan = JSON.parse(data.WSB_PLAN) as { vus: number };
    expect(req.maxVUs).toBe(plan.vus);
  });
});

