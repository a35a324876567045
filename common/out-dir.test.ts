import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareOutDir } from './out-dir.js';
import { WsbenchError } from './errors.js';

function refused(dir: string): WsbenchError {
  try {
    prepareOutDir(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(WsbenchError);
    return e as WsbenchError;
  }
  throw new Error(`${dir} was accepted`);
}

describe('prepareOutDir', () => {
  it('makes missing folders one level at a time and leaves no probe file behind', () => {
    const root = mkdtempSync(join(tmpdir(), 'wsb-out-'));
    const dir = prepareOutDir(join(root, 'a', 'b', 'c'));
    expect(dir).toBe(join(root, 'a', 'b', 'c'));
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(prepareOutDir(dir)).toBe(dir); // an existing folder is fine
  });

  it('refuses a file on the path, naming it', () => {
    const root = mkdtempSync(join(tmpdir(), 'wsb-out-'));
    writeFileSync(join(root, 'f'), 'x');
    const e = refused(join(root, 'f', 'x', 'y'));
    expect(e.code).toBe('WSB_OUT_UNUSABLE');
    expect(e.message).toBe(`--out ${join(root, 'f', 'x', 'y')}: ${join(root, 'f')} is a file, not a folder`);
    expect(refused(join(root, 'f')).message).toContain('exists and is a file, not a folder');
    expect(e.hint).toContain('--out');
  });

  it('refuses /proc and /sys, also through a symlink', () => {
    expect(refused('/proc/nope').message).toBe('--out /proc/nope: /proc is a kernel pseudo-filesystem, not a place for results');
    expect(refused('/sys/x').code).toBe('WSB_OUT_UNUSABLE');
    const root = mkdtempSync(join(tmpdir(), 'wsb-out-'));
    symlinkSync('/proc', join(root, 'p'));
    expect(refused(join(root, 'p', 'nope')).message).toContain('leads to /proc');
  });
});
