/**
 * Finding k6 and learning what its JavaScript runtime offers. wsbench does not ship k6: it runs
 * the one given with `--k6 <path>`, else `$K6_BIN`, else the first `k6` on PATH.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { WsbenchError } from '../../common/errors.js';

export interface K6Version {
  major: number;
  minor: number;
  patch: number;
  /** The first line of `k6 version`, e.g. `k6 v0.48.0 (go1.19.8, linux/amd64)`. */
  raw: string;
}

export interface K6Binary {
  path: string;
  version: K6Version;
}

/** How to get k6 (the hint of WSB_K6_NOT_FOUND). */
export const K6_INSTALL_HINT =
  'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/ — a single binary from https://github.com/grafana/k6/releases, ' +
  'or the dl.k6.io apt repository) and put it on PATH, pass --k6 <path> (or set K6_BIN), ' +
  'use --driver docker once the docker driver exists (it runs the grafana/k6 image), or run the Node engine (no --engine k6)';

/**
 * Parses `k6 version` output. k6 prints `k6 v0.48.0 (go1.19.8, linux/amd64)` (v0.x) or
 * `k6 v1.2.3 (commit/abc, go1.24.4, linux/amd64)` (v1+), possibly followed by extension lines.
 */
export function parseK6Version(output: string): K6Version | null {
  const line = output.split(/\r?\n/).find((l) => /\bk6 v\d+\.\d+\.\d+/.test(l));
  if (!line) return null;
  const m = /\bk6 v(\d+)\.(\d+)\.(\d+)/.exec(line)!;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw: line.trim() };
}

export function versionAtLeast(v: Pick<K6Version, 'major' | 'minor' | 'patch'>, major: number, minor: number, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

export function formatK6Version(v: Pick<K6Version, 'major' | 'minor' | 'patch'>): string {
  return `v${v.major}.${v.minor}.${v.patch}`;
}

/** The oldest k6 wsbench's scripts were checked against (fixtures/k6/ came from it). */
export const OLDEST_TESTED_K6 = { major: 0, minor: 48, patch: 0 } as const;

/**
 * Module names the scripts import, as this k6 version knows them. The scripts are written against
 * @types/k6 (`k6/websockets`, `k6/timers`); the bundler rewrites them for older k6:
 * - `k6/websockets` is the stable module since k6 v1.6.0 (grafana/k6#5579, release notes v1.6.0);
 *   before, the same API is `k6/experimental/websockets` (since v0.40.0);
 * - `k6/timers` since v0.50.0; before, `k6/experimental/timers` (removed in v0.52+).
 */
export function k6ModuleAliases(v: Pick<K6Version, 'major' | 'minor' | 'patch'>): Record<string, string> {
  return {
    'k6/websockets': versionAtLeast(v, 1, 6) ? 'k6/websockets' : 'k6/experimental/websockets',
    'k6/timers': versionAtLeast(v, 0, 50) ? 'k6/timers' : 'k6/experimental/timers',
  };
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on `pathVar`, or null. */
export function whichOnPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

/** Where k6 would be looked for, in order: `--k6`, `$K6_BIN`, PATH. Null when none names an executable file. */
export function resolveK6Path(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): { path: string | null; tried: string } {
  const given = explicit ?? env.K6_BIN;
  if (given) {
    const p = isAbsolute(given) || given.includes('/') ? resolve(given) : whichOnPath(given, env.PATH);
    const origin = explicit !== undefined ? '--k6' : 'K6_BIN';
    return { path: p && isExecutableFile(p) ? p : null, tried: `${origin} ${given}` };
  }
  return { path: whichOnPath('k6', env.PATH), tried: 'k6 on PATH' };
}

function runVersion(path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(path, ['version'], { timeout: timeoutMs, env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}${stderr ? `: ${stderr.trim().split('\n').slice(-1)[0]}` : ''}`));
      else resolvePromise(`${stdout}\n${stderr}`);
    });
  });
}

/**
 * Finds k6 and reads its version. Throws WSB_K6_NOT_FOUND (exit 2, with how to install k6) when
 * there is none, or what was found does not answer `k6 version` like k6.
 */
export async function locateK6(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, timeoutMs = 15_000): Promise<K6Binary> {
  const { path, tried } = resolveK6Path(explicit, env);
  if (!path) {
    throw new WsbenchError('WSB_K6_NOT_FOUND', `k6 not found (${tried}: no such executable file)`, { hint: K6_INSTALL_HINT });
  }
  let out: string;
  try {
    out = await runVersion(path, timeoutMs);
  } catch (e) {
    throw new WsbenchError('WSB_K6_NOT_FOUND', `${path} is not a working k6: \`${path} version\` failed: ${(e as Error).message}`, { hint: K6_INSTALL_HINT });
  }
  const version = parseK6Version(out);
  if (!version) {
    throw new WsbenchError('WSB_K6_NOT_FOUND', `${path} is not k6: \`${path} version\` printed ${JSON.stringify(out.trim().slice(0, 200))}`, { hint: K6_INSTALL_HINT });
  }
  return { path, version };
}
