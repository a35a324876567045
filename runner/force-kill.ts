import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';
import { descendants, processesWithEnv } from '../cluster/process-identity.js';
import { RUN_ID_ENV } from '../cluster/user-node.js';

/**
 * The forced end of a run (a second Ctrl-C): SIGKILLs every process the run started and their
 * children — nginx's workers outlive a SIGKILLed master, so they are collected before their
 * parents go. With the docker driver, a killed main process leaves its (stopped) containers: a
 * detached `wsbench clean --run <id> --force` removes them. Returns the pids signalled.
 */
export function forceKillRun(pids: readonly number[], run: { driver?: string; runId?: string }): number[] {
  // A user's node carries the run id in its environment: found even when it left the process tree.
  const marked = run.runId ? processesWithEnv(RUN_ID_ENV, run.runId).map((p) => p.pid) : [];
  const roots = [...pids, ...marked];
  const all = [...new Set([...roots, ...roots.flatMap((p) => descendants(p).map((d) => d.pid))])];
  const killed: number[] = [];
  for (const pid of all) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  if (run.driver === 'docker' && run.runId) {
    spawn(process.execPath, [join(packageRoot(), 'bin', 'wsbench.js'), 'clean', '--run', run.runId, '--force'], { detached: true, stdio: 'ignore' }).unref();
  }
  return killed;
}
