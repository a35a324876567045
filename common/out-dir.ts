/**
 * The output folder (`--out`), checked and made before anything starts. Node's recursive
 * `mkdirSync` is not used: on procfs it loops forever at 100 % CPU, synchronously, so no signal can
 * stop it (issue 15, part 9). Instead the nearest existing ancestor is found by hand, kernel
 * pseudo-filesystems are refused, each missing folder is made one level at a time, and a temp file
 * proves the folder is writable.
 */
import { mkdirSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { WsbenchError } from './errors.js';

/** Kernel pseudo-filesystems: nothing wsbench writes belongs there, and mkdir there misbehaves. */
const PSEUDO_FS = ['/proc', '/sys'];

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}${sep}`);
}

function unusable(dir: string, flag: string, reason: string): WsbenchError {
  return new WsbenchError('WSB_OUT_UNUSABLE', `${flag} ${dir}: ${reason}`, {
    hint: `choose a folder you can write to for ${flag} (e.g. ${flag} wsbench-results/my-run)`,
  });
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? 'error';
}

/**
 * Makes `dir` (and its missing parents) and checks it can be written to. Returns the absolute path.
 * Throws WsbenchError `WSB_OUT_UNUSABLE` (exit 2) naming the path and the reason when it is under
 * /proc or /sys, when an ancestor is a file, or when it cannot be made or written.
 * @param flag the flag to name in the message and hint (default `--out`)
 */
export function prepareOutDir(dir: string, flag = '--out'): string {
  const abs = resolve(dir);
  const pseudo = PSEUDO_FS.find((root) => under(abs, root));
  if (pseudo) throw unusable(abs, flag, `${pseudo} is a kernel pseudo-filesystem, not a place for results`);
  // The nearest existing ancestor (ENOTDIR: an ancestor is a file; keep going up to find it).
  const missing: string[] = [];
  let existing = abs;
  for (;;) {
    try {
      const st = statSync(existing);
      if (!st.isDirectory()) {
        throw unusable(abs, flag, existing === abs ? 'exists and is a file, not a folder' : `${existing} is a file, not a folder`);
      }
      break;
    } catch (e) {
      if (e instanceof WsbenchError) throw e;
      const code = errnoOf(e);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw unusable(abs, flag, `cannot look at ${existing} (${code})`);
      const parent = dirname(existing);
      if (parent === existing) throw unusable(abs, flag, 'no existing ancestor folder');
      missing.unshift(existing);
      existing = parent;
    }
  }
  // A symlink into a pseudo-filesystem is refused as well.
  let real = existing;
  try {
    real = realpathSync(existing);
  } catch {
    // keep the path as given
  }
  const pseudoReal = PSEUDO_FS.find((root) => under(real, root));
  if (pseudoReal) throw unusable(abs, flag, `${existing} leads to ${real}, in ${pseudoReal}, a kernel pseudo-filesystem`);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw unusable(abs, flag, `cannot make ${d} (${errnoOf(e)}: ${(e as Error).message.replace(/^[A-Z]+: /, '')})`);
    }
  }
  const probe = join(abs, `.wsbench-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw unusable(abs, flag, `cannot write in it (${errnoOf(e)})`);
  }
  return abs;
}
