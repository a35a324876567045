import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../common/logger.js';
import { descendants, processIdentity, processesWithEnv, sameProcess, type ProcessIdentity } from './process-identity.js';
import { RUN_ID_ENV } from './user-node.js';

const log = logger('clean');

/**
 * What a run writes to `<run folder>/pids.json` whenever it starts processes: enough for
 * `wsbench clean` to tell, after a `kill -9` of the CLI, which pids are still the run's programs.
 */
export interface PidsRecord {
  runId: string;
  /** pid of the wsbench process that owns the run. */
  cli: number;
  /** Its start time (/proc/<pid>/stat field 22): a live owner means the run is still going. */
  cliStartTime?: number;
  driver?: 'local' | 'docker' | 'external';
  pids: number[];
  /** Each pid with its command line and start time when recorded. */
  processes?: Array<{ pid: number; startTime: number; cmdline: string }>;
  /** `cluster`: a `wsbench cluster up` cluster, owned by its keeper process (cluster/persistent.ts). */
  kind?: 'cluster';
}

/** The pids.json content for the current process and these pids (identities read from /proc). */
export function pidsRecord(runId: string, driver: 'local' | 'docker' | 'external', pids: number[]): PidsRecord {
  const processes = pids.map((pid) => processIdentity(pid)).filter((p): p is ProcessIdentity => p !== undefined);
  return {
    runId,
    cli: process.pid,
    cliStartTime: processIdentity(process.pid)?.startTime,
    driver,
    pids,
    processes: processes.map(({ pid, startTime, cmdline }) => ({ pid, startTime, cmdline })),
  };
}

/** Every pids.json under `dirs`: a run folder itself, or a results folder holding run folders. */
export function findPidsFiles(dirs: string[]): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    if (existsSync(join(dir, 'pids.json'))) {
      out.push(join(dir, 'pids.json'));
      continue;
    }
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const e of entries) {
      const f = join(dir, e, 'pids.json');
      try {
        if (statSync(join(dir, e)).isDirectory() && existsSync(f)) out.push(f);
      } catch {
        // vanished meanwhile
      }
    }
  }
  return out;
}

export interface CleanResult {
  /** Processes signalled (and gone afterwards unless listed in `failed`). */
  killed: Array<{ runId: string; pid: number; cmdline: string }>;
  /** Containers and networks removed, as `run: name`. */
  removed: string[];
  /** Runs left alone, with why. */
  skipped: string[];
  /** What could not be cleaned. */
  failed: string[];
  /** Docker engine not reachable: containers were not looked at. */
  dockerNote?: string;
}

/** kill(pid, 0): the process exists (EPERM: it exists, owned by someone else). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerAlive(pid: number, startTime: number | undefined): boolean {
  // Without /proc (not Linux) or a recorded start time, any live process with that pid counts:
  // leaving a run alone is the safe mistake.
  if (process.platform !== 'linux' || startTime === undefined || !Number.isFinite(startTime) || startTime <= 0) return pidExists(pid);
  return sameProcess({ pid, startTime });
}

async function cleanLocal(dirs: string[], opts: { runId?: string; force?: boolean }, res: CleanResult, graceMs: number): Promise<void> {
  for (const file of findPidsFiles(dirs)) {
    let rec: PidsRecord;
    try {
      rec = JSON.parse(readFileSync(file, 'utf8')) as PidsRecord;
    } catch (e) {
      res.failed.push(`${file}: unreadable (${(e as Error).message})`);
      continue;
    }
    if (opts.runId && rec.runId !== opts.runId) continue;
    if (!opts.force && ownerAlive(rec.cli, rec.cliStartTime)) {
      res.skipped.push(
        rec.kind === 'cluster'
          ? `${rec.runId}: a cluster that is up (\`wsbench cluster up\`, keeper pid ${rec.cli}); \`wsbench cluster down ${rec.runId}\` stops it (or --force)`
          : `${rec.runId}: still running (wsbench pid ${rec.cli}); --force cleans it anyway`,
      );
      continue;
    }
    // Only a pid that still runs the recorded program (same start time and command line) is signalled.
    const live = (rec.processes ?? []).filter((p) => sameProcess(p));
    const unverifiable = rec.pids.filter((pid) => !(rec.processes ?? []).some((p) => p.pid === pid) && processIdentity(pid));
    for (const pid of unverifiable) res.skipped.push(`${rec.runId}: pid ${pid} has no recorded identity; left alone`);
    // A report being written when the CLI was killed: the temp file of an atomic write (the real
    // file is either complete or absent, see reports/write-report.ts).
    const folder = dirname(file);
    for (const f of readdirSync(folder)) {
      if (!/^\.(report\.json|report\.html|junit\.xml|report\.invalid\.json)\.\d+\.[0-9a-f]+\.tmp$/.test(f)) continue;
      try {
        rmSync(join(folder, f), { force: true });
        res.removed.push(`${rec.runId}: ${f} (unfinished report write)`);
      } catch (e) {
        res.failed.push(`${join(folder, f)}: ${(e as Error).message}`);
      }
    }
    // A user's node carries the run id in its environment (cluster/user-node.ts): found even when
    // its shell is gone and it left the recorded tree.
    const marked = processesWithEnv(RUN_ID_ENV, rec.runId);
    if (live.length === 0 && marked.length === 0) continue;
    // Children too (nginx workers, a node's helpers): collected before their parents go.
    const targets = new Map<number, { pid: number; startTime: number; cmdline: string }>();
    for (const p of [...live, ...marked]) {
      targets.set(p.pid, p);
      for (const d of descendants(p.pid)) targets.set(d.pid, d);
    }
    const signal = (sig: NodeJS.Signals) => {
      for (const t of targets.values()) {
        if (!sameProcess(t)) continue;
        try {
          process.kill(t.pid, sig);
        } catch {
          // gone meanwhile
        }
      }
    };
    signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...targets.values()].some((t) => sameProcess(t))) await sleep(50);
    signal('SIGKILL');
    await sleep(50);
    for (const t of targets.values()) {
      if (sameProcess(t)) res.failed.push(`${rec.runId}: pid ${t.pid} (${t.cmdline}) survived SIGKILL`);
      else res.killed.push({ runId: rec.runId, pid: t.pid, cmdline: t.cmdline });
    }
    log(`${rec.runId}: ${targets.size} processes signalled`);
  }
}

async function cleanDocker(opts: { runId?: string; force?: boolean }, res: CleanResult): Promise<void> {
  // Loaded only here: `wsbench clean` on a machine without Docker does not pay for testcontainers.
  const { connectEngine, listLabelled, removeRun, LABELS } = await import('./docker-engine.js');
  let engine;
  try {
    engine = await connectEngine(5000);
  } catch (e) {
    res.dockerNote = `Docker engine not reachable, containers not checked (${(e as Error).message})`;
    return;
  }
  const client = engine.client;
  const runs = new Map<string, Record<string, string>>();
  for (const c of await listLabelled(client, `${LABELS.marker}=true`)) runs.set(c.labels[LABELS.run] ?? '', c.labels);
  const networks = await client.container.dockerode.listNetworks({ filters: { label: [`${LABELS.marker}=true`] } });
  for (const n of networks) if (!runs.has(n.Labels?.[LABELS.run] ?? '')) runs.set(n.Labels?.[LABELS.run] ?? '', n.Labels ?? {});
  for (const [runId, labels] of runs) {
    if (!runId || (opts.runId && runId !== opts.runId)) continue;
    const owner = Number(labels[LABELS.cliPid]);
    const sameHost = labels[LABELS.host] === os.hostname();
    if (!opts.force) {
      if (!sameHost) {
        res.skipped.push(`${runId}: containers started from host ${labels[LABELS.host] ?? '?'}; --force removes them`);
        continue;
      }
      if (Number.isInteger(owner) && owner > 0 && ownerAlive(owner, labels[LABELS.cliStart] ? Number(labels[LABELS.cliStart]) : undefined)) {
        res.skipped.push(`${runId}: still running (wsbench pid ${owner}); --force removes its containers anyway`);
        continue;
      }
    }
    try {
      for (const name of await removeRun(client, runId)) res.removed.push(`${runId}: ${name}`);
    } catch (e) {
      res.failed.push((e as Error).message);
    }
  }
}

/**
 * Sweeps what killed runs left behind: processes recorded in `<run folder>/pids.json` under `dirs`
 * (only while each still runs the recorded program and the owning CLI is gone), and containers
 * and networks labelled `wsbench=true` whose owning CLI is gone. `runId` limits it to one run;
 * `force` ignores the owner check.
 */
export async function clean(opts: { dirs: string[]; runId?: string; force?: boolean; docker?: boolean; graceMs?: number }): Promise<CleanResult> {
  const res: CleanResult = { killed: [], removed: [], skipped: [], failed: [] };
  await cleanLocal(opts.dirs, opts, res, opts.graceMs ?? 3000);
  if (opts.docker !== false) await cleanDocker(opts, res);
  return res;
}
