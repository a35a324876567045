import { Command, CommanderError, Option } from 'commander';
import { WsbenchError, isWsbenchError } from '../common/errors.js';
import { setDebug, debugEnabled } from '../common/logger.js';
import { LB_POLICIES } from '../cluster/nginx-config.js';
import { SCENARIOS } from '../scenarios/index.js';
import { SEED_TARGETS } from '../reports/targets.js';
import { buildPlan, RUN_DEFAULTS } from './plan.js';
import { run, toolVersion } from './run.js';
import { setup } from './setup.js';

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
    .argument('<scenario>', `scenario to run: ${Object.keys(SCENARIOS).join(', ')}`)
    .description('start the cluster, run a scenario against it, report, tear down')
    .option('--nodes <n>', `reference nodes behind nginx (default ${RUN_DEFAULTS.nodes})`)
    .addOption(new Option('--lb-policy <policy>', `nginx upstream policy (default ${RUN_DEFAULTS.lbPolicy})`).choices([...LB_POLICIES]))
    .option('--lb-port <port>', 'load-balancer port on 127.0.0.1 (default: a free port)')
    .addOption(new Option('--driver <driver>', 'cluster driver (default local)').choices(['local']))
    .addOption(new Option('--server <server>', 'reference server variant').choices(['socketio']))
    .option('--ready-timeout <ms>', `ms each cluster part gets to become ready (default ${RUN_DEFAULTS.readyTimeout})`)
    .option('--config <file>', 'JSON config file (flags override it)')
    .option('--target <id=value>', 'override a target threshold, e.g. latency-p99=30 (repeatable)', collect)
    .option('--out <dir>', 'output folder (default wsbench-results/<run id>)')
    .option('--json', 'print the JSON report on stdout instead of the table');
  // Scenario options: the union of every scenario's flags (they share names where they overlap).
  const seen = new Set<string>();
  for (const s of Object.values(SCENARIOS)) {
    for (const f of s.flags) {
      if (seen.has(f.flag)) continue;
      seen.add(f.flag);
      runCmd.option(f.flag, `[${s.name}] ${f.description}`);
    }
  }
  runCmd.action(async (scenarioName: string, flags: Record<string, unknown>) => {
    const plan = buildPlan(scenarioName, flags);
    const controller = new AbortController();
    let pids: () => number[] = () => [];
    let interrupts = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping… (tearing down, writing a partial report) press Ctrl-C again to force\n`);
        controller.abort();
        return;
      }
      process.stderr.write('forced: killing every process of the run\n');
      for (const pid of pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const outcome = await run(plan, {
        stdout: process.stdout,
        stderr: process.stderr,
        signal: controller.signal,
        onPids: (p) => (pids = p),
      });
      onExitCode(outcome.exitCode);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });

  prog
    .command('setup')
    .description('install what the local driver needs (redis-server, nginx) with the OS package manager')
    .option('--check', 'only report what is missing (exit 1 when something is)')
    .action((opts: { check?: boolean }) => {
      onExitCode(setup({ stdout: process.stdout }, opts));
    });

  prog
    .command('list')
    .description('list scenarios, their options and the targets they judge')
    .action(() => {
      for (const s of Object.values(SCENARIOS)) {
        process.stdout.write(`${s.name}\n  ${s.describe}\n  targets:\n`);
        for (const id of s.targets) {
          const t = SEED_TARGETS[id];
          process.stdout.write(`    ${id}: ${t.description} (${t.op} ${t.value} ${t.unit}; seed ${t.source.seed})\n`);
        }
        process.stdout.write('  options:\n');
        for (const f of s.flags) process.stdout.write(`    ${f.flag.padEnd(22)} ${f.description}\n`);
      }
      onExitCode(0);
    });
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
