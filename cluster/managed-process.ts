import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { WsbenchError, type ErrorCode } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { liveGroupMembers } from './process-identity.js';

const log = logger('process');

export interface ManagedProcessOptions {
  /** Name used in messages and logs, e.g. `node-2`, `redis`, `nginx`. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** File that receives the process's stdout and stderr. */
  logFile: string;
  /**
   * Starts it as the leader of its own process group, and every signal goes to the whole group
   * (a user's `sh -c` command: a signal to the shell alone would leave its server running).
   */
  group?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process the harness started: output goes to a log file (and is scanned line by line for
 * readiness), and its exit is observable. `stop()` sends SIGTERM, escalates to SIGKILL after a
 * grace period, may be called twice and returns the first result.
 */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly out: WriteStream;
  private readonly lineWaiters = new Set<(line: string) => void>();
  private tail: string[] = [];
  private stopping: Promise<ExitInfo> | undefined;
  private readonly group: boolean;

  private constructor(opts: ManagedProcessOptions) {
    this.name = opts.name;
    this.group = opts.group ?? false;
    this.out = createWriteStream(opts.logFile, { flags: 'a' });
    this.child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.group,
    });
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        log(`${this.name} exited code=${code} signal=${signal}`);
        resolve(this.exitInfo);
      });
      this.child.once('error', (err) => {
        this.out.write(`spawn error: ${err.message}\n`);
        this.remember(`spawn error: ${err.message}`);
        this.exitInfo ??= { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        this.out.write(chunk);
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.remember(line);
      });
    }
  }

  static start(opts: ManagedProcessOptions): ManagedProcess {
    log(`${opts.name}: ${opts.command} ${opts.args.join(' ')}`);
    return new ManagedProcess(opts);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last lines the process printed (for error messages). */
  lastLines(n = 8): string {
    return this.tail.slice(-n).join('\n');
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 50) this.tail.shift();
    for (const w of this.lineWaiters) w(line);
  }

  /**
   * Resolves with the first output line for which `match` returns a value; rejects with a coded
   * error when the process exits first or the timeout passes.
   */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number, code: ErrorCode, hint: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.lineWaiters.delete(onLine);
        fn();
      };
      const onLine = (line: string) => {
        const v = match(line);
        if (v !== undefined) done(() => resolve(v));
      };
      const timer = setTimeout(() => {
        done(() => reject(new WsbenchError(code, `${this.name} not ready after ${timeoutMs} ms; last output:\n${this.lastLines()}`, { hint })));
      }, timeoutMs);
      this.lineWaiters.add(onLine);
      void this.exited.then((info) => {
        if (!this.lineWaiters.has(onLine)) return;
        done(() =>
          reject(
            new WsbenchError('WSB_PROCESS_EXITED', `${this.name} exited (code ${info.code}, signal ${info.signal}) before it was ready; last output:\n${this.lastLines()}`, { hint }),
          ),
        );
      });
    });
  }

  /** Sends a signal if the process still runs (a group: while any member of its group does). */
  signal(sig: NodeJS.Signals): boolean {
    if (this.child.pid === undefined) return false;
    if (this.group) {
      if (!this.groupAlive()) return false;
      try {
        process.kill(-this.child.pid, sig);
        return true;
      } catch {
        return false;
      }
    }
    if (!this.running) return false;
    try {
      return this.child.kill(sig);
    } catch {
      return false;
    }
  }

  /** A group process: some member of its process group still exists (the leader's own exit is `running`). */
  groupAlive(): boolean {
    if (!this.group || this.child.pid === undefined) return this.running;
    try {
      process.kill(-this.child.pid, 0);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    // Zombies waiting for their reaper hold no port and run nothing.
    const live = liveGroupMembers(this.child.pid);
    return live === undefined || live.length > 0;
  }

  /** Resolves when the process (a group: every member of it) is gone, or `timeoutMs` passed; true when gone. */
  async gone(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    while (this.groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return !this.groupAlive();
  }

  /** `sig` (default SIGTERM), then SIGKILL after `graceMs` (a group: to every member left). Idempotent. */
  stop(graceMs = 5000, sig: NodeJS.Signals = 'SIGTERM'): Promise<ExitInfo> {
    this.stopping ??= (async () => {
      if (this.running || this.groupAlive()) {
        this.signal(sig);
        if (!(await this.gone(graceMs))) {
          this.signal('SIGKILL');
          await this.exited;
          await this.gone(2000);
        }
      }
      if (!this.out.closed) {
        this.out.end();
        await once(this.out, 'close').catch(() => undefined);
      }
      return this.exitInfo!;
    })();
    return this.stopping;
  }
}
