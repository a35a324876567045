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

/** The pid folders of /proc (none when it cannot be read). */
function procPids(): string[] {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
}

/** Every live descendant of `pid` (children, grandchildren, …), from one pass over /proc. */
export function descendants(pid: number): ProcessIdentity[] {
  const all: ProcessIdentity[] = [];
  for (const d of procPids()) {
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

/**
 * Every live process whose environment holds `name=value` (readable for this user's own processes
 * only): how `wsbench clean` finds a user's node that left the recorded process tree.
 */
export function processesWithEnv(name: string, value: string): ProcessIdentity[] {
  const needle = `${name}=${value}`;
  const out: ProcessIdentity[] = [];
  for (const d of procPids()) {
    let env: string;
    try {
      env = readFileSync(`/proc/${d}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!env.split('\0').includes(needle)) continue;
    const p = processIdentity(Number(d));
    if (p && p.pid !== process.pid) out.push(p);
  }
  return out;
}

/**
 * Live (not zombie) members of process group `pgid`, from /proc; undefined without /proc. A killed
 * member stays a zombie until its new parent reaps it, which can take a while in a container.
 */
export function liveGroupMembers(pgid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const out: number[] = [];
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[0]: state (field 3); rest[2]: pgrp (field 5).
      if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
