import { describe, expect, it } from 'vitest';
import { DisposerStack } from './disposer-stack.js';

describe('DisposerStack.startOrUndo (the end of both drivers\' start)', () => {
  it('a start that throws half-way: what it started is closed, last first, every closing failure reported, the original error rethrown', async () => {
    const stack = new DisposerStack();
    const closed: string[] = [];
    const reported: string[] = [];
    const boom = new Error('node-2 exited before it was ready');
    const p = stack.startOrUndo(
      async () => {
        stack.push('redis', () => void closed.push('redis'));
        stack.push('node-1', () => {
          closed.push('node-1');
          throw new Error('already gone');
        });
        throw boom;
      },
      (e) => reported.push(e.message),
    );
    await expect(p).rejects.toBe(boom);
    expect(closed).toEqual(['node-1', 'redis']);
    expect(reported).toEqual(['closing node-1: already gone']);
    expect(stack.size).toBe(0);
  });

  it('a start that succeeds keeps its closers; down() closes once and resolves with the errors, await using closes too', async () => {
    const stack = new DisposerStack();
    const closed: string[] = [];
    const started = await stack.startOrUndo(async () => {
      stack.push('nginx', () => void closed.push('nginx'));
      return { url: 'http://127.0.0.1:1', ...stack.closers() };
    }, () => {
      throw new Error('not called');
    });
    expect(closed).toEqual([]);
    expect(await started.down()).toEqual([]);
    expect(await started.down()).toEqual([]);
    await started[Symbol.asyncDispose]();
    expect(closed).toEqual(['nginx']);
  });
});
