import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { WsbenchError } from '../common/errors.js';

// nginx lives in /usr/sbin on Debian, which is not on a non-root user's PATH.
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/sbin'];

/** Absolute path of an executable found on PATH or in the usual sbin folders, or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
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
    throw new WsbenchError('WSB_MISSING_BINARY', `${name} was not found on PATH or in /usr/sbin`, {
      hint: `run \`npx wsbench setup\` (installs ${REQUIRED_BINARIES[name] ?? name} with apt-get), or install it yourself`,
    });
  }
  return p;
}
