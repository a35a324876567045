/**
 * `wsbench render <kind> [scenario]`: Kubernetes manifests for the reference cluster, a
 * k6-operator TestRun, or the Node engine as an Indexed Job (render/, built from the flags by
 * cli/render-plan.ts), as YAML on stdout or one file per object with `--out`. And `wsbench
 * tokens`, which the k6-operator runners use to mint their clients' tokens from the JWT secret.
 * Nothing here connects anywhere: a URL given to render is only parsed and written into the
 * manifests.
 */
import { Command, Option } from 'commander';
import { WsbenchError } from '../common/errors.js';
import { LB_POLICIES } from '../cluster/nginx-config.js';
import { SERVER_KINDS, SOCKETIO_ADAPTERS } from '../cluster/types.js';
import { writeTokens } from '../engines/k6/engine.js';
import { SCENARIOS } from '../scenarios/index.js';
import { CLUSTER_RENDER_DEFAULTS, JWT_SECRET_KEY } from '../render/cluster.js';
import { toYaml, writeObjects } from '../render/k8s.js';
import { RESULTS_CLAIM_DEFAULTS } from '../render/results-claim.js';
import { buildRender, RENDER_DEFAULTS, RENDER_KINDS, type Flags } from './render-plan.js';
import { toolVersion } from '../runner/run.js';


export interface RenderIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

const str = (f: Flags, k: string): string | undefined => (typeof f[k] === 'string' ? (f[k] as string) : undefined);

export async function renderCommand(kind: string, scenario: string | undefined, f: Flags, io: RenderIO): Promise<number> {
  const r = await buildRender(kind, scenario, f, io.env ?? process.env, io.now ?? new Date());
  // A warning in a YAML comment is easy to miss: it goes to stderr too.
  for (const n of r.notes) if (n.startsWith('WARNING')) io.stderr.write(`render ${kind}: ${n}\n`);
  const out = str(f, 'out');
  if (out) {
    const paths = writeObjects(r, out);
    io.stderr.write(`render ${kind}: ${paths.length} objects written to ${out} (kubectl apply -f ${out})\n`);
  } else io.stdout.write(toYaml(r));
  return 0;
}

const HELP = `
Kinds:
  cluster [scenario]        the reference cluster: a Deployment + Service per node, Redis, NGINX with
                            wsbench's generated config (ConfigMap), the JWT Secret. With a scenario,
                            the nodes get the settings \`wsbench run <scenario>\` would give them.
  k6-operator <scenario>    a k6-operator TestRun (parallelism N) and the ConfigMap with the k6 script,
                            bundled as the local k6 engine bundles it for --k6-version, and its
                            environment; runners write their outputs to a ReadWriteMany claim.
  node-job <scenario>       the Node engine as an Indexed Job (N shard pods, each \`wsbench run --shard
                            i/N --start-at <t>\`), and a Job that merges their partial reports.

Nothing is applied and nothing is contacted: pipe to \`kubectl apply -f -\`, or --out <folder>.
See docs/kubernetes.md.`;

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Adds `render` and `tokens` to the program. */
export function addRenderCommands(prog: Command, onExitCode: (code: number) => void): void {
  const cmd = prog
    .command('render')
    .argument('<kind>', `what to render: ${RENDER_KINDS.join(', ')}`)
    .argument('[scenario]', 'the scenario (k6-operator, node-job; optional for cluster)')
    .description('render Kubernetes manifests: the reference cluster, a k6-operator TestRun, or the Node engine as an Indexed Job')
    .option('--out <folder>', 'write one YAML file per object into this folder (default: one YAML stream on stdout)')
    .option('--name <name>', 'name of the objects (default: wsbench for cluster, wsbench-<scenario> otherwise)')
    .option('--namespace <ns>', 'namespace of every object (default: none, kubectl\'s current one)')
    .option('--image <ref>', `wsbench's own image, built from the Dockerfile (default wsbench:${toolVersion()})`)
    .option('--cluster-name <name>', `[k6-operator, node-job] the rendered cluster's name: its Services and Secret (default ${CLUSTER_RENDER_DEFAULTS.name})`)
    .option('--jwt-secret-name <name>', `the Secret holding ${JWT_SECRET_KEY} (default <cluster name>-jwt)`)
    .option('--nodes <n>', `nodes of the cluster (default ${CLUSTER_RENDER_DEFAULTS.nodes})`)
    .addOption(new Option('--server <server>', `reference server variant (default ${CLUSTER_RENDER_DEFAULTS.server})`).choices([...SERVER_KINDS]))
    .addOption(new Option('--adapter <adapter>', '[cluster, --server socketio] cluster adapter (default redis)').choices([...SOCKETIO_ADAPTERS]))
    .addOption(new Option('--lb-policy <policy>', `[cluster, node-job] NGINX upstream policy (default ${CLUSTER_RENDER_DEFAULTS.lbPolicy})`).choices([...LB_POLICIES]))
    .option('--server-image <ref>', "[cluster] the user's server image instead of the reference nodes (gets PORT, REDIS_URL, NODE_ID, WSB_JWT_SECRET)")
    .option('--server-arg <arg>', '[cluster, --server-image] an argument of the server image (repeatable)', collect)
    .option('--server-port <port>', `[cluster] port the nodes listen on (default ${CLUSTER_RENDER_DEFAULTS.serverPort})`)
    .option('--health-path <path>', `[cluster] readiness path of the nodes (default ${CLUSTER_RENDER_DEFAULTS.healthPath})`)
    .option('--redis-image <ref>', `[cluster] Redis image (default ${CLUSTER_RENDER_DEFAULTS.redisImage})`)
    .option('--nginx-image <ref>', `[cluster, node-job] NGINX image (default ${CLUSTER_RENDER_DEFAULTS.nginxImage})`)
    .option('--expected-connections <n>', `[cluster] peak connections NGINX is sized for (default: the scenario's, else ${CLUSTER_RENDER_DEFAULTS.expectedConnections})`)
    .option('--server-rate-limit <n>', '[cluster] messages per minute per connection the nodes allow (default: the scenario\'s, else seed 001: 100)')
    .option('--existing-secret', `[cluster] do not render the Secret: it exists (${JWT_SECRET_KEY}; else taken from $${JWT_SECRET_KEY} or random)`)
    .option('--parallelism <n>', `[k6-operator, node-job] runners / shard pods (default ${RENDER_DEFAULTS.parallelism})`)
    .option('--k6-version <version>', '[k6-operator] k6 version of the runner image (default: the local k6\'s: --k6, $K6_BIN, PATH)')
    .option('--k6 <path>', '[k6-operator] the local k6 to take the version from')
    .option('--k6-image <ref>', '[k6-operator] runner image (default grafana/k6:<k6 version>)')
    .option('--url <url>', '[k6-operator] the cluster as the runners reach it (default http://<cluster name>-lb:8080); only written, never contacted')
    .option('--separate', '[k6-operator] one runner per Kubernetes node')
    .option('--cpu <quantity>', '[k6-operator, node-job] CPU each runner / shard pod requests, e.g. 2 or 1500m (default none; no limit is set)')
    .option('--memory <quantity>', '[k6-operator, node-job] memory each runner / shard pod requests, e.g. 2Gi (default none)')
    .option('--start-at <time>', '[node-job, k6-operator cross-node-broadcast] ISO time every shard / runner starts publishing from (default: now + --start-delay)')
    .option('--start-delay <s>', `[node-job, k6-operator] seconds from now to the start, without --start-at (default ${RENDER_DEFAULTS.startDelayS})`)
    .option('--upstream <host:port>', '[node-job] a node Service the shards\' NGINX balances over (repeatable; default the rendered cluster\'s <cluster name>-node-<i>:3000)', collect)
    .option('--merge-timeout <s>', `[node-job] seconds the merge Job waits for every partial (default ${RENDER_DEFAULTS.mergeTimeoutS})`)
    .option('--results-claim <name>', '[k6-operator, node-job] an existing ReadWriteMany claim for the results (default: render <name>-results)')
    .option('--storage <size>', `[k6-operator, node-job] size of the rendered claim (default ${RESULTS_CLAIM_DEFAULTS.storage})`)
    .option('--storage-class <class>', '[k6-operator, node-job] storage class of the rendered claim (default: the cluster\'s default)')
    .option('--config <file>', '[scenario] JSON config file, as for wsbench run')
    .option('--target <id=value>', '[scenario] override a target threshold (repeatable)', collect)
    .addHelpText('after', HELP);
  const seen = new Set(cmd.options.map((o) => o.long));
  for (const s of Object.values(SCENARIOS)) {
    for (const fl of s.flags) {
      const long = fl.flag.split(' ')[0];
      if (seen.has(long)) continue;
      seen.add(long);
      cmd.option(fl.flag, `[scenario] ${fl.description.replace(/^\[[^\]]*\] /, '')}`);
    }
  }
  cmd.action(async (kind: string, scenario: string | undefined, flags: Flags) => {
    onExitCode(await renderCommand(kind, scenario, flags, { stdout: process.stdout, stderr: process.stderr }));
  });

  prog
    .command('tokens')
    .argument('<count>', 'how many tokens (one per connection index)')
    .description(`write the JWTs a k6 script's clients use (sub k6-<index>, all rooms), signed with $${JWT_SECRET_KEY}: what a k6-operator runner's init container runs`)
    .requiredOption('--out <file>', 'the JSON file to write')
    .action((count: string, opts: { out: string }) => {
      const n = Number(count);
      if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new WsbenchError('WSB_INVALID_OPTION', `tokens: <count> must be a whole number from 1 (got '${count}')`, { hint: 'e.g. wsbench tokens 1240 --out tokens.json' });
      const secret = process.env[JWT_SECRET_KEY];
      if (!secret) throw new WsbenchError('WSB_INVALID_OPTION', `tokens: ${JWT_SECRET_KEY} is not set`, { hint: `put the cluster's JWT secret in ${JWT_SECRET_KEY}` });
      try {
        writeTokens(opts.out, secret, n);
      } catch (e) {
        throw new WsbenchError('WSB_REPORT_WRITE_FAILED', `tokens: cannot write ${opts.out}: ${(e as Error).message}`, { hint: 'choose a writable --out' });
      }
      process.stderr.write(`tokens: ${n} written to ${opts.out}\n`);
      onExitCode(0);
    });
}

