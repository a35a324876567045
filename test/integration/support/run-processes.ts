/**
 * Test support: every process that belongs to one `wsbench run`, found through /proc, however it
 * was started or renamed. A test runs the CLI with `WSB_TEST_TAG=<tag>` in its environment (every
 * child inherits it: nodes, load workers, redis-server, nginx) and `--out <dir>`; a process belongs
 * to the run when its environment carries the tag, or its command line, working folder or an open
 * file lies in the run folder (redis-server renames itself and `--dir` puts its cwd there; nginx
 * rewrites its environment block for its title, but its workers keep the run folder's error.log
 * open). Zombies do not count.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** A fresh tag for one CLI child: pass `{ ...process.env, WSB_TEST_TAG: tag }` as its env. */
export function newTag(): string {
  return `wsb-test-${randomBytes(6).toString('hex')}`;
}

function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

function belongs(pid: number, tag: string | undefined, dir: string | undefined): boolean {
  try {
    if (tag !== undefined && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`WSB_TEST_TAG=${tag}`)) return true;
  } catch {
    // gone, or not ours to read
  }
  if (dir === undefined) return false;
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(dir)) return true;
  } catch {
    // gone
  }
  try {
    if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) return true;
  } catch {
    // gone
  }
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir)) return true;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone
  }
  return false;
}

/** Pids of the live processes of the run tagged `tag` (and/or writing into `dir`), this process excluded. */
export function runProcesses(o: { tag?: string; dir?: string }): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid) continue;
    const s = state(pid);
    if (s === undefined || s === 'Z' || s === 'X') continue;
    if (belongs(pid, o.tag, o.dir)) out.push(pid);
  }
  return out;
}

/** Polls until no process of the run is left or `timeoutMs` passes; resolves with what is left. */
export async function waitNoRunProcesses(o: { tag?: string; dir?: string }, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = runProcesses(o);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Command lines of pids, for assertion messages. */
export function describePids(pids: number[]): string[] {
  return pids.map((pid) => {
    try {
      return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`;
    } catch {
      return `${pid}: (gone)`;
    }
  });
}
