import { logger } from './logger.js';

const log = logger('teardown');

/**
 * A run-scoped stack of closers. Every started resource (process, worker, container) pushes one;
 * `dispose()` runs them in reverse order with Promise.allSettled semantics per layer and reports
 * every failure instead of stopping at the first. Calling dispose twice returns the first result.
 */
export class DisposerStack {
  private readonly stack: Array<{ name: string; close: () => Promise<void> | void }> = [];
  private disposing: Promise<Error[]> | undefined;

  push(name: string, close: () => Promise<void> | void): void {
    if (this.disposing) {
      // Started after teardown began (a race with Ctrl-C): close it right away.
      void Promise.resolve().then(close).catch(() => undefined);
      return;
    }
    this.stack.push({ name, close });
  }

  get size(): number {
    return this.stack.length;
  }

  /** Runs every closer, last pushed first; resolves with the errors (empty when all closed). */
  dispose(): Promise<Error[]> {
    this.disposing ??= (async () => {
      const errors: Error[] = [];
      while (this.stack.length > 0) {
        const { name, close } = this.stack.pop()!;
        const t0 = Date.now();
        try {
          await close();
          log(`closed ${name} in ${Date.now() - t0} ms`);
        } catch (e) {
          errors.push(new Error(`closing ${name}: ${e instanceof Error ? e.message : String(e)}`));
        }
      }
      return errors;
    })();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /**
   * Runs a start that pushes its closers onto this stack: resolves with what it built, or — when it
   * throws half-way — closes everything it had started (each closing failure to `onCloseError`)
   * and rethrows the original error (testcontainers' `wait-for-container.ts`). Both drivers end
   * their start this way.
   */
  async startOrUndo<T>(start: () => Promise<T>, onCloseError: (e: Error) => void): Promise<T> {
    try {
      return await start();
    } catch (err) {
      for (const e of await this.dispose()) onCloseError(e);
      throw err;
    }
  }

  /** How a started resource built on this stack is closed: `down()` (resolves with the errors) and `await using`. */
  closers(): { down: () => Promise<Error[]>; [Symbol.asyncDispose]: () => Promise<void> } {
    return { down: () => this.dispose(), [Symbol.asyncDispose]: () => this[Symbol.asyncDispose]() };
  }
}
