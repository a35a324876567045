import { readFileSync, readdirSync } from 'node:fs';

/**
 * What tells one process from a later one that got the same pid: its command line and its start
 * time (field 22 of /proc/<pid>/stat, clock ticks since boot). Linux only; undefined elsewhere or
 * when the process is gone.
 */
export interface ProcessIdentity {
  pid: number;
  /** argv joined with spaces. */
  cmdline: string;
  startTime: number;
  ppid: number;
}

/** Reads /proc/<pid>; undefined when there is no such process (or no /proc). */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): field n is rest[n - 3].
    const state = rest[0];
    if (state === 'Z' || state === 'X') return undefined;
    return { pid, cmdline, ppid: Number(rest[1]), startTime: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

/** True when `pid` still runs the same program that was recorded (same start time, same command line). */
export function sameProcess(recorded: { pid: number; cmdline?: string; startTime?: number }): boolean {
  const now = processIdentity(recorded.pid);
  if (!now) return false;
  if (recorded.startTime !== undefined && now.startTime !== recorded.startTime) return false;
  if (recorded.cmdline !== undefined && now.cmdline !== recorded.cmdline) return false;
  return true;
}

/** Every live descendant of `pid` (children, grandchildren, …), from one pass over /proc. */
export function descendants(pid: number): ProcessIdentity[] {
  const all: ProcessIdentity[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  for (const d of entries) {
    const p = processIdentity(Number(d));
    if (p) all.push(p);
  }
  const out: ProcessIdentity[] = [];
  const frontier = [pid];
  while (frontier.length) {
    const parent = frontier.pop()!;
    for (const p of all) {
      if (p.ppid === parent && !out.some((o) => o.pid === p.pid)) {
        out.push(p);
        frontier.push(p.pid);
      }
    }
  }
  return out;
}
