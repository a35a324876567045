/** The orchestrator's children: forks of the entry point with a typed mailbox, and their cleanup. */
import { fork, type ChildProcess } from 'node:child_process';
import { ENTRY, type ServerKind } from './config.js';

const children = new Set<ChildProcess>();

export interface Msg {
  type: string;
  [k: string]: unknown;
}

/** A child process with a typed mailbox. */
export class Child {
  readonly proc: ChildProcess;
  private queue: Msg[] = [];
  private waiters: Array<{ type: string; resolve: (m: Msg) => void }> = [];
  private exited: string | null = null;
  private failWaiters: Array<(e: Error) => void> = [];

  /** `entry`: another build's bench entry point (BENCH_BASELINE); default this build's. */
  constructor(readonly name: string, args: string[], execArgv: string[] = [], entry = ENTRY) {
    this.proc = fork(entry, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(this.proc);
    this.proc.on('message', (m: Msg) => {
      const w = this.waiters.findIndex((x) => x.type === m.type);
      if (w >= 0) this.waiters.splice(w, 1)[0].resolve(m);
      else if (m.type !== 'tick') this.queue.push(m);
    });
    this.proc.on('exit', (code, signal) => {
      children.delete(this.proc);
      this.exited = `exited (code ${code}, signal ${signal})`;
      for (const f of this.failWaiters) f(new Error(`${this.name} ${this.exited}`));
      this.failWaiters = [];
    });
  }

  post(m: Msg): void {
    if (this.proc.connected) this.proc.send(m);
  }

  next(type: string, timeoutMs: number): Promise<Msg> {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.exited) return Promise.reject(new Error(`${this.name} ${this.exited} before "${type}"`));
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      this.failWaiters.push(fail);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          this.failWaiters = this.failWaiters.filter((f) => f !== fail);
          resolve(m);
        },
      });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
}

export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
}

export async function startServer(kind: ServerKind, rooms: number, pingMs?: number): Promise<{ server: Child; port: number }> {
  const server = new Child(`${kind}-server`, ['--role', 'server', '--server', kind, '--rooms', String(rooms), ...(pingMs !== undefined ? ['--ping-ms', String(pingMs)] : [])]);
  const m = await server.next('listening', 15_000);
  return { server, port: m.port as number };
}
