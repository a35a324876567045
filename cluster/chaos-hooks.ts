/**
 * Chaos through the user's own commands (`chaos.hooks`), for a cluster wsbench did not start
 * (`--url`): `killNode: "kubectl delete pod {node} --grace-period=0"`. A hook runs through
 * `sh -c`; its exit code is checked and its output kept for the chaos event. Its effect is then
 * observed from outside as for any chaos action (cluster/chaos.ts): a hook that exits 0 but changed
 * nothing is a failed action.
 */
import { spawn } from 'node:child_process';
import type { ChaosAction } from './chaos.js';
import { redactCommand } from '../config/redact.js';

/** The hook keys of `chaos.hooks`, one per cluster action. */
export const HOOK_KEYS = ['killNode', 'stopNode', 'startNode', 'pauseNode', 'resumeNode', 'stopRedis', 'startRedis', 'stopLb', 'startLb'] as const;
export type HookKey = (typeof HOOK_KEYS)[number];
export type ChaosHooks = Partial<Record<HookKey, string>>;

/** The hooks each chaos action runs (`restart-node` is a stop then a start; a reload has no hook). */
export const ACTION_HOOKS: Record<ChaosAction['type'], readonly HookKey[]> = {
  'kill-node': ['killNode'],
  'stop-node': ['stopNode'],
  'start-node': ['startNode'],
  'restart-node': ['stopNode', 'startNode'],
  'pause-node': ['pauseNode'],
  'resume-node': ['resumeNode'],
  'stop-redis': ['stopRedis'],
  'start-redis': ['startRedis'],
  'stop-lb': ['stopLb'],
  'start-lb': ['startLb'],
  'reload-lb': [],
};

/** Defaults: ms a hook may run before it is killed (SIGKILL to its process group), and output kept (characters, the tail). */
export const HOOK_DEFAULTS = { timeoutMs: 60_000, outputChars: 2000 } as const;

/** What a placeholder may be replaced with as is; anything else is single-quoted for the shell. */
const SHELL_SAFE = /^[A-Za-z0-9._:/@%+=,\[\]-]*$/;

function shellValue(v: string): string {
  return SHELL_SAFE.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/** The command with `{node}`, `{nodeUrl}`, `{index}` (1-based) filled in. */
export function fillHook(template: string, vars: { node?: string; nodeUrl?: string; index?: number }): string {
  return template.replace(/\{(node|nodeUrl|index)\}/g, (m, k: 'node' | 'nodeUrl' | 'index') => (vars[k] === undefined ? m : shellValue(String(vars[k]))));
}

/** One run of a hook: the command as run, its exit code (null: killed by a signal or timeout) and the tail of its output. */
export interface HookRun {
  key: HookKey;
  command: string;
  exitCode: number | null;
  output: string;
  ms: number;
}

/** The run in one line, for the chaos event's detail: `hook killNode "kill -9 …" exit 0: <output>`. */
export function describeHookRun(r: HookRun): string {
  // The command (and what it printed) may hold credentials: redacted as the stored config is.
  const out = redactCommand(r.output.trim().replace(/\s+/g, ' '));
  return `hook ${r.key} "${redactCommand(r.command)}" exit ${r.exitCode ?? 'killed'}${out ? `: ${out.length > 300 ? `…${out.slice(-300)}` : out}` : ''}`;
}

/**
 * Runs `command` through `sh -c` (its own process group, stdin closed), stdout and stderr
 * together. Resolves with the run whatever its exit code; after `timeoutMs` the group is killed.
 */
export function runHook(key: HookKey, command: string, timeoutMs: number = HOOK_DEFAULTS.timeoutMs): Promise<HookRun> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let output = '';
    const keep = (c: Buffer) => {
      output = (output + c.toString('utf8')).slice(-HOOK_DEFAULTS.outputChars);
    };
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ key, command, exitCode: null, output: `${output}${e.message}`, ms: Date.now() - t0 });
    });
    // On exit, not on close: a hook that starts a server in the background (`node server.js &`)
    // leaves that server holding the pipes, and must not be waited for (nor killed at the timeout).
    // What is still in the pipes is read for a moment, then they are let go.
    child.on('exit', (code) => {
      clearTimeout(timer);
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ key, command, exitCode: code, output, ms: Date.now() - t0 });
      }, 50);
    });
  });
}

/** A hook that exited non-zero (or could not run): the chaos action fails with this message. */
export class HookFailedError extends Error {
  constructor(readonly run: HookRun) {
    super(`${describeHookRun(run)} (a hook must exit 0)`);
  }
}

/** Runs the hook and throws HookFailedError unless it exits 0. */
export async function runHookOrThrow(key: HookKey, command: string): Promise<HookRun> {
  const r = await runHook(key, command);
  if (r.exitCode !== 0) throw new HookFailedError(r);
  return r;
}
