import { readFile, readdir } from 'node:fs/promises';

/** Resident set size of one process in bytes (from /proc/<pid>/status), or null if it is gone. */
export async function rssOf(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Pids whose parent is `pid` (scans /proc/<n>/stat; no CONFIG_PROC_CHILDREN needed). */
export async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** RSS of a process and its direct children (nginx: master + workers), in bytes. */
export async function rssOfTree(pid: number): Promise<number | null> {
  const own = await rssOf(pid);
  if (own === null) return null;
  const kids = await Promise.all((await childrenOf(pid)).map(rssOf));
  return own + kids.reduce<number>((a, b) => a + (b ?? 0), 0);
}

/** The state letter of one process (/proc/<pid>/stat: R, S, D, T, Z, …), or null if it is gone. */
export async function procState(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}
