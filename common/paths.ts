import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

function isWsbenchPackage(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'wsbench';
  } catch {
    return false;
  }
}

/** The package root (the folder holding wsbench's package.json), from source or from dist/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    // wsbench's own package.json: from source, from dist/, and where a project installed the package.
    if (existsSync(join(dir, 'package.json')) && isWsbenchPackage(join(dir, 'package.json'))) break;
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
