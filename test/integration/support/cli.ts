/**
 * Test support: the real `wsbench` bin as a child process (autocannon's CLI tests), with its own
 * environment, a hook on every stderr chunk (to signal it at a chosen moment) and its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/wsbench.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Called with all stderr so far, on every chunk. */
  onStderr?: (stderr: string, child: ChildProcess) => void;
  /** Called once the child is spawned. */
  onSpawn?: (child: ChildProcess) => void;
}

export function wsbench(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      opts.onStderr?.(stderr, child);
    });
    opts.onSpawn?.(child);
    let closed = false;
    child.once('close', () => (closed = true));
    child.once('exit', (code, signal) => {
      // Let the pipes drain; after a kill -9, orphaned load workers may hold them open: wait 2 s at most.
      const done = () => resolve({ code, signal, stdout, stderr });
      if (closed) return done();
      const timer = setTimeout(done, 2000);
      child.once('close', () => {
        clearTimeout(timer);
        done();
      });
    });
  });
}
