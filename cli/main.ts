import { Command, CommanderError, Option } from 'commander';
import { WsbenchError, isWsbenchError } from '../common/errors.js';
import { setDebug, debugEnabled } from '../common/logger.js';
import { LB_POLICIES } from '../cluster/nginx-config.js';
import { DOCKER_IMAGE_DEFAULTS, DOCKER_NETWORK_CHOICES, DOCKER_PULL_CHOICES, type DockerImages } from '../cluster/docker-options.js';
import { clean } from '../cluster/clean.js';
import { doctor } from './doctor.js';
import { SERVER_KINDS, SOCKETIO_ADAPTERS } from '../cluster/types.js';
import { SCENARIOS } from '../scenarios/index.js';
import { planFromCommandLine } from './plan.js';
import { CONFIG_DEFAULTS as RUN_DEFAULTS } from '../config/defaults.js';
import { toolVersion } from '../runner/run.js';
import { runCommand } from './run-command.js';
import { withInterrupts } from './interrupts.js';
import { setup } from './setup.js';
import { CALIBRATION_CASES } from '../calibrate/options.js';
import { calibrateCommand } from './calibrate.js';
import { compareCommand, reportCommand, type CompareFlags, type ReportFlags } from './report-commands.js';
import { COMPARE_DEFAULTS } from '../reports/compare.js';
import { addClusterCommands } from './cluster-program.js';
import { addMergeCommand } from './merge-command.js';
import { addRenderCommands } from './render-command.js';
import { listConfig, listScenarios } from './list-command.js';

function printError(e: unknown): number {
  if (isWsbenchError(e)) {
    process.stderr.write(`error ${e.code}: ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    if (debugEnabled() && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  process.stderr.write(`error WSB_INTERNAL: ${e instanceof Error ? e.message : String(e)}\n`);
  if (debugEnabled() && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return 2;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Builds the commander program. `exitOverride` makes commander throw instead of exiting. */
export function program(onExitCode: (code: number) => void): Command {
  const prog = new Command('wsbench')
    .description('Load-testing and chaos-verification harness for horizontally scaled WebSocket clusters')
    .version(toolVersion())
    .option('--debug', 'print debug logs and stacks')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .hook('preAction', (cmd) => {
      if (cmd.opts().debug) setDebug(true);
    });

  const runCmd = prog
    .command('run')
    .argument('<scenario>', `scenario to run (${Object.keys(SCENARIOS).join(', ')}), or a named run of the --config file`)
    .description('start the cluster, run a scenario against it, report, tear down')
    .option('--nodes <n>', `reference nodes behind nginx (default ${RUN_DEFAULTS.nodes})`)
    .addOption(new Option('--lb-policy <policy>', `nginx upstream policy (default ${RUN_DEFAULTS.lbPolicy})`).choices([...LB_POLICIES]))
    .option('--lb-port <port>', 'load-balancer port on 127.0.0.1 (default: a free port)')
    .addOption(new Option('--driver <driver>', 'cluster driver: local processes or docker containers (default local)').choices(['local', 'docker']))
    .option('--redis-image <ref>', `[--driver docker] Redis image (default ${DOCKER_IMAGE_DEFAULTS.redis})`)
    .option('--nginx-image <ref>', `[--driver docker] NGINX image (default ${DOCKER_IMAGE_DEFAULTS.nginx})`)
    .option('--node-image <ref>', `[--driver docker] Node image for the reference nodes (default ${DOCKER_IMAGE_DEFAULTS.node})`)
    .addOption(new Option('--docker-network <mode>', '[--driver docker] host networking or a bridge network (default auto: host on a Linux engine on this machine)').choices([...DOCKER_NETWORK_CHOICES]))
    .addOption(new Option('--docker-pull <policy>', '[--driver docker] pull images missing locally, or never (default missing)').choices([...DOCKER_PULL_CHOICES]))
    .addOption(
      new Option('--server <server>', `reference server variant: socket.io + redis adapter, ws + Redis pub/sub, Bun (default ${RUN_DEFAULTS.server})`).choices([...SERVER_KINDS]),
    )
    .addOption(
      new Option('--adapter <adapter>', '[--server socketio] cluster adapter: redis (@socket.io/redis-adapter, pub/sub) or redis-streams (@socket.io/redis-streams-adapter with connection state recovery) (default redis)').choices([
        ...SOCKETIO_ADAPTERS,
      ]),
    )
    .option('--server-command <cmd>', "your own server as the nodes (local driver): the command starting ONE node, with {port} {redisUrl} {nodeId} (also PORT, REDIS_URL, NODE_ID in its environment); runs through sh -c (more in the config's `server`: docs/configuration.md)")
    .option('--server-image <ref>', '[--driver docker] your own server as the nodes: the image run once per node, host networking, PORT, REDIS_URL, NODE_ID in its environment')
    .addOption(new Option('--protocol <name>', "with your own server: it speaks wsbench's reference protocol — socketio or json (any other protocol: a profile in the config's `protocol`, docs/your-server.md)").choices(['socketio', 'json']))
    .option('--ready-timeout <ms>', `ms each cluster part gets to become ready (default ${RUN_DEFAULTS.readyTimeout})`)
    .option('--server-rate-limit <n>', 'messages per minute per connection the nodes allow (default: seed 001: 100, raised by load scenarios as needed)')
    .option('--url <url>', "use the cluster already running behind this load balancer (http(s):// or ws(s)://host:port, any host) instead of starting one; its JWT secret in WSB_JWT_SECRET; chaos through chaos.hooks in the config")
    .option('--cluster <id>', 'run against a cluster started by `wsbench cluster up` (its id or folder; default none): its URL, nodes, JWT secret and server variant')
    .option('--shard <i/N>', 'run the i-th of N shares of this plan (split by room, i from 1) and write <out>/partial.json for `wsbench merge` (cross-node-broadcast; with --engine k6 the i-th execution segment)')
    .option('--start-at <time>', "[--shard] ISO wall-clock time every shard starts publishing at, e.g. 2026-12-07T10:00:30Z (default: each shard starts when it is ready)")
    .option('--node-urls <urls>', '[--url] its nodes\' own URLs, comma-separated, for /metrics and /health (default: none)', collect)
    .option('--ca <file>', '[--url wss://, https://] PEM file of the CA that signed the cluster\'s certificate (config tls.ca; default: the system\'s CAs)')
    .option('--insecure', '[--url wss://, https://] do not verify the cluster\'s certificate (config tls.insecure; the report says so)')
    .option('--insecure-disable <checks>', 'TEST/CALIBRATION ONLY — never a feature: every node skips these security checks on purpose (auth, origin, rate-limit, size-limit, room-auth, buffer-limit; comma-separated), to prove security-probes catches it', collect)
    .option('--calibration-fault <spec>', 'CALIBRATION ONLY: every node injects this known fault on purpose: delay-cross=<ms>, drop-every=<k>, dup-every=<m>, swap-pairs, each [:<room>] (repeatable or comma-separated; see `wsbench calibrate`)', collect)
    .option('--repeat <n>', 'run the scenario n times (on one cluster) and judge the targets on the distribution (default 1; cross-node-broadcast without --duration: 3 runs of 8 s)')
    .addOption(new Option('--judge <how>', 'with --repeat: judge each target on the median run\'s value, the worst run\'s, or every run must pass (default median)').choices(['median', 'worst', 'every']))
    .option('--fresh-cluster', 'with --repeat: a fresh cluster per run (default: one cluster for all runs)')
    .option('--config <file>', 'config file: wsbench.config.{ts,mts,js,mjs,json}, one run or named runs (`wsbench run <run name> --config f`); flags override it')
    .option('--dry-run', 'print the effective config (defaults < config file < flags, validated) as JSON and exit, starting nothing')
    .option('--target <id=value>', 'override a target threshold, e.g. latency-p99=30, or switch one off: no-leak=off (repeatable)', collect)
    .option('--out <dir>', 'output folder (default wsbench-results/<run id>)')
    .option('--json', 'print the JSON report on stdout instead of the table')
    .addOption(new Option('--engine <engine>', 'what drives the load: node (load/ workers) or k6 (default node)').choices(['node', 'k6']))
    .option('--k6 <path>', 'k6 binary for --engine k6 (default: $K6_BIN, else k6 on PATH)');
  // Scenario options: the union of every scenario's flags (they share names where they overlap).
  const byFlag = new Map<string, string[]>();
  for (const s of Object.values(SCENARIOS)) {
    for (const f of s.flags) {
      const text = f.description.replace(/^\[[^\]]*\] /, '');
      const list = byFlag.get(f.flag) ?? [];
      if (!list.some((l) => l.endsWith(text))) list.push(`[${s.name}] ${text}`);
      byFlag.set(f.flag, list);
    }
  }
  for (const [flag, texts] of byFlag) runCmd.option(flag, texts.join('; '));
  runCmd.action(async (scenarioName: string, flags: Record<string, unknown>) => {
    const plan = await planFromCommandLine(scenarioName, flags);
    if (flags.dryRun) {
      process.stdout.write(`${JSON.stringify(plan.config, null, 2)}\n`);
      onExitCode(0);
      return;
    }
    const code = await withInterrupts({ driver: plan.driver, runId: plan.runId }, ({ signal, onPids }) =>
      runCommand(plan, { stdout: process.stdout, stderr: process.stderr, signal, onPids }),
    );
    onExitCode(code);
  });

  prog
    .command('calibrate')
    .description('prove the numbers: short runs against known injected faults (delay, drop, duplicate, swap) and a publisher stall, injected vs measured; exit 0 only when every check agrees')
    .addOption(new Option('--driver <driver>', 'cluster driver (default local)').choices(['local', 'docker']))
    .addOption(new Option('--server <server>', 'reference server variant (default socketio)').choices([...SERVER_KINDS]))
    .option('--nodes <n>', 'reference nodes (default 3)')
    .option('--connections <n>', 'connections per case, one publisher per room included (default 300)')
    .option('--rooms <n>', 'rooms (default 10)')
    .option('--rate <msgs>', 'messages per second per publisher (default 5)')
    .option('--warmup <s>', 'warm-up seconds per case (default 1)')
    .option('--duration <s>', 'measured seconds per case (default 4)')
    .option('--drain <s>', 'seconds for in-flight deliveries (default 2)')
    .option('--delay-ms <ms>', 'delay case: ms added to every cross-node delivery (default 20)')
    .option('--drop-every <k>', 'drop case: every k-th broadcast of --drop-room is dropped (default 7)')
    .option('--drop-room <room>', 'drop case: the room (default room-3)')
    .option('--dup-every <m>', 'dup case: every m-th broadcast is written twice (default 5)')
    .option('--stall-ms <ms>', "stall case: the generator's publishers pause this long (default 200)")
    .option('--stall-at <s>', 'stall case: seconds into the measured phase (default 2)')
    .option('--cases <list>', `cases to run, comma-separated, or none (with --wire) (default all: ${CALIBRATION_CASES.join(',')})`)
    .option('--wire', 'also cross-check receive times against packet timestamps on lo (tshark)')
    .option('--wire-connections <n>', 'wire cross-check: connections (default 1000)')
    .option('--wire-members <n>', 'wire cross-check: members per room (default 49)')
    .option('--wire-deliveries <n>', 'wire cross-check: offered deliveries per second (default 4000)')
    .option('--wire-duration <s>', 'wire cross-check: measured seconds (default 8)')
    .option('--wire-sample-every <n>', 'wire cross-check: log every n-th arrival (default 10)')
    .option('--connect-rate <n>', 'connections opened per second (default 500)')
    .option('--ready-timeout <ms>', 'ms each cluster part gets to become ready')
    .addOption(new Option('--docker-network <mode>', '[--driver docker] network mode').choices([...DOCKER_NETWORK_CHOICES]))
    .option('--out <dir>', 'output folder (default wsbench-results/calibrate-<time>-<hex>)')
    .option('--json', 'print the results as JSON instead of the table')
    .action(async (flags: Record<string, unknown>) => {
      const code = await withInterrupts({ driver: typeof flags.driver === 'string' ? flags.driver : undefined }, ({ signal, onPids, onRun }) =>
        calibrateCommand(flags, { stdout: process.stdout, stderr: process.stderr, signal, onPids, onRun }),
      );
      onExitCode(code);
    });

  prog
    .command('setup')
    .description('install what the local driver needs (redis-server, nginx) with the OS package manager')
    .option('--check', 'only report what is missing (exit 1 when something is)')
    .option('--tests', "also what wsbench's own tests need: a Docker engine with the docker driver's images, and chromium")
    .action((opts: { check?: boolean; tests?: boolean }) => {
      onExitCode(setup({ stdout: process.stdout }, opts));
    });

  prog
    .command('doctor')
    .description('say which cluster drivers can run on this machine, and why not')
    .addOption(new Option('--driver <driver>', 'check only this driver').choices(['local', 'docker']))
    .option('--redis-image <ref>', `Redis image to look for (default ${DOCKER_IMAGE_DEFAULTS.redis})`)
    .option('--nginx-image <ref>', `NGINX image to look for (default ${DOCKER_IMAGE_DEFAULTS.nginx})`)
    .option('--node-image <ref>', `Node image to look for (default ${DOCKER_IMAGE_DEFAULTS.node})`)
    .addOption(new Option('--docker-network <mode>', 'network mode to evaluate (default auto)').choices([...DOCKER_NETWORK_CHOICES]))
    .action(async (opts: { driver?: 'local' | 'docker'; redisImage?: string; nginxImage?: string; nodeImage?: string; dockerNetwork?: (typeof DOCKER_NETWORK_CHOICES)[number] }) => {
      const images = Object.fromEntries(Object.entries({ redis: opts.redisImage, nginx: opts.nginxImage, node: opts.nodeImage }).filter(([, v]) => v !== undefined));
      onExitCode(await doctor({ stdout: process.stdout }, { driver: opts.driver, docker: { images: images as Partial<DockerImages>, network: opts.dockerNetwork } }));
    });

  prog
    .command('clean')
    .argument('[folders...]', 'run folders, or folders holding run folders (default wsbench-results)')
    .description("remove what killed runs left: processes recorded in pids.json, containers labelled wsbench.run=<id> (a `wsbench cluster up` cluster that is up is left alone: `wsbench cluster down`)")
    .option('--run <id>', 'only this run')
    .option('--force', "also when the run's wsbench process still runs")
    .action(async (folders: string[], opts: { run?: string; force?: boolean }) => {
      const r = await clean({ dirs: folders.length ? folders : ['wsbench-results'], runId: opts.run, force: opts.force });
      for (const k of r.killed) process.stdout.write(`killed  ${k.runId}: pid ${k.pid} (${k.cmdline.slice(0, 100)})
`);
      for (const name of r.removed) process.stdout.write(`removed ${name}
`);
      for (const s of r.skipped) process.stdout.write(`skipped ${s}
`);
      for (const f of r.failed) process.stderr.write(`failed  ${f}
`);
      if (r.dockerNote) process.stdout.write(`note: ${r.dockerNote}
`);
      process.stdout.write(`clean: ${r.killed.length} processes killed, ${r.removed.length} containers/networks removed, ${r.skipped.length} skipped, ${r.failed.length} failed
`);
      onExitCode(r.failed.length ? 2 : 0);
    });

  prog
    .command('list [run]')
    .description('list scenarios, their options and the targets they judge; with --config: what each run of that file will judge, and where each target comes from')
    .option('--config <file>', 'a config file: per run (or only [run]), each target with its op, threshold and source (seed or config)')
    .action(async (run: string | undefined, flags: { config?: string }) => {
      if (flags.config !== undefined) await listConfig(flags.config, run, process.stdout);
      else listScenarios(process.stdout);
      onExitCode(0);
    });

  prog
    .command('report')
    .argument('<run.json>', 'a report.json written by `wsbench run`')
    .description('re-render a saved report: console table (or --json), HTML, JUnit XML; exits like the run (0 pass, 1 fail, 2 error)')
    .option('--html <file>', 'write the self-contained HTML report here')
    .option('--junit <file>', 'write JUnit XML (one test case per target) here')
    .option('--json', 'print the JSON report instead of the table')
    .action(async (file: string, opts: ReportFlags) => {
      onExitCode(await reportCommand(file, opts, { stdout: process.stdout, stderr: process.stderr }));
    });

  prog
    .command('compare')
    .argument('<baseline.json>', 'the baseline report (e.g. committed to the repository)')
    .argument('<current.json>', 'the report of the run to judge')
    .description('gate a report against a baseline value by value; exit 1 on a regression beyond tolerance, a value missing from current, a current verdict other than pass, or a different workload (docs/compare.md)')
    .option('--max-regression <pct>', `tolerated change in the worse direction (default ${COMPARE_DEFAULTS.maxRegressionPct}%)`)
    .option('--metric <name=pct>', 'tolerance for one value or group, e.g. broadcast_latency_ms.p99=20% (a ratio such as deliveryRatio takes percentage points) (repeatable)', collect)
    .option('--latency-floor <ms>', `a latency change smaller than this is never a regression (default ${COMPARE_DEFAULTS.latencyFloorMs} ms)`)
    .option('--allow-missing', 'a value the baseline measured and current lacks is listed instead of failing the gate')
    .option('--allow-different-options', 'compare runs with a different workload (connections, rooms, rate, duration, nodes, server, …) instead of failing the gate')
    .option('--config <file>', "take the tolerances from the config file's `compare` section (maxRegression, latencyFloor, ratioTolerance, metrics, allowMissing, allowDifferentOptions); flags override it")
    .option('--json', 'print the comparison as JSON instead of the table')
    .action(async (baseline: string, current: string, opts: CompareFlags) => {
      onExitCode(await compareCommand(baseline, current, opts, { stdout: process.stdout, stderr: process.stderr }));
    });
  addClusterCommands(prog, onExitCode);
  addMergeCommand(prog, onExitCode);
  addRenderCommands(prog, onExitCode);
  return prog;
}

const COMMANDER_CODES: Record<string, string> = {
  'commander.unknownOption': 'unknown flag',
  'commander.invalidArgument': 'invalid value',
  'commander.missingArgument': 'missing argument',
  'commander.optionMissingArgument': 'flag needs a value',
  'commander.unknownCommand': 'unknown command',
  'commander.excessArguments': 'too many arguments',
};

/** Runs the CLI; resolves with the process exit code (0 pass, 1 target missed, 2 harness error). */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const prog = program((c) => (code = c));
  try {
    await prog.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      const what = COMMANDER_CODES[e.code] ?? 'bad usage';
      return printError(
        new WsbenchError('WSB_INVALID_OPTION', `${what}: ${e.message.replace(/^error: /, '')}`, { hint: 'see `wsbench --help` and `wsbench run --help`' }),
      );
    }
    return printError(e);
  }
}
