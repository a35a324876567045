import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';
import { descendants } from '../cluster/process-identity.js';

/**
 * The forced end of a run (a second Ctrl-C): SIGKILLs every process the run started and their
 * children — nginx's workers outlive a SIGKILLed master, so they are collected before their
 * parents go. With the docker driver, a killed main process leaves its (stopped) containers: a
 * detached `wsbench clean --run <id> --force` removes them. Returns the pids signalled.
 */
export function forceKillRun(pids: readonly number[], run: { driver?: string; runId?: string }): number[] {
  const all = [...new Set([...pids, ...pids.flatMap((p) => descendants(p).map((d) => d.pid))])];
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
