import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package root (the folder holding wsbench's package.json), from source or from dist/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) break;
    const up = dirname(dir);
    if (up === dir) throw new Error('wsbench: cannot find the package root');
    dir = up;
  }
  root = dir;
  return dir;
}

/**
 * Path of a compiled entry point (e.g. `load/worker.js`) under dist/. Child processes always run
 * the compiled JavaScript, also when the parent runs from TypeScript source under vitest.
 */
export function distEntry(rel: string): string {
  return join(packageRoot(), 'dist', rel);
}
