import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { WsbenchError } from './errors.js';
import { packageRoot } from './paths.js';

// nginx lives in /usr/sbin on Debian, which is not on a non-root user's PATH.
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/sbin'];

/**
 * Folders searched after PATH: the usual sbin/bin folders, or those `WSB_EXTRA_BIN_DIRS` lists
 * (`:`-separated; empty: none), so a test can hide the system's binaries honestly.
 */
export function extraBinDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const v = env.WSB_EXTRA_BIN_DIRS;
  return v === undefined ? EXTRA_DIRS : v.split(delimiter).filter(Boolean);
}

/** Absolute path of an executable found on PATH or in the usual sbin folders, or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraBinDirs()];
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Debian package that provides each binary the local driver needs. */
export const REQUIRED_BINARIES: Record<string, string> = {
  'redis-server': 'redis-server',
  nginx: 'nginx',
};

export function requireBinary(name: keyof typeof REQUIRED_BINARIES | string): string {
  const p = findBinary(name);
  if (!p) {
    const extra = extraBinDirs();
    throw new WsbenchError('WSB_MISSING_BINARY', `${name} was not found on PATH${extra.length ? ` or in ${extra.join(', ')}` : ''}`, {
      hint: `run \`npx wsbench setup\` (installs ${REQUIRED_BINARIES[name] ?? name} with apt-get), or install it yourself`,
    });
  }
  return p;
}

/**
 * The bun binary that runs the Bun reference server: the one the `bun` npm dependency ships
 * (resolved from wsbench's package root, so a hoisted install works too), else `bun` on PATH.
 */
export function bunBinary(): string {
  const candidates: string[] = [];
  try {
    const require = createRequire(join(packageRoot(), 'package.json'));
    candidates.push(join(dirname(require.resolve('bun/package.json')), 'bin', 'bun.exe'));
  } catch {
    // not installed as a dependency
  }
  candidates.push(join(packageRoot(), 'node_modules', '.bin', 'bun'));
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  const onPath = findBinary('bun');
  if (onPath) return onPath;
  throw new WsbenchError('WSB_MISSING_BINARY', 'bun was not found (neither node_modules/.bin/bun nor bun on PATH)', {
    hint: 'run `npm ci` (the `bun` npm package ships the binary), or install Bun yourself',
  });
}
