/**
 * How a target's source is named to a reader: `seed 004 · WebSocket Implementation for Real-Time
 * Communication` rather than the seed file's hashed name (`004_ef208ec7b515aee1.txt`), which stays
 * in report.json as the exact reference. A source that is not a seed file (a user's config file)
 * is shown as it is.
 */

/** Seed file name → the document's title (its first heading, without "Week 6:" and "- Enhanced Version"). */
export const SEED_TITLES: Readonly<Record<string, string>> = {
  '000_64ab80ae3bb40708.txt': 'WebSocket Scaling Patterns Implementation',
  '001_609e1fcb5de08830.txt': 'WebSocket Scaling Architecture Guide',
  '002_65b233de4d0c487c.txt': 'TableForge WebSocket Horizontal Scaling System',
  '003_c4c5d53b7231f8d1.txt': 'WebSocket Clustering Strategy',
  '004_ef208ec7b515aee1.txt': 'WebSocket Implementation for Real-Time Communication',
};

const SEED_FILE = /^(\d{3})_[0-9a-f]{16}\.txt$/;

/** `seed 004` for a seed file, else the source as given. */
export function seedShort(seed: string): string {
  const m = SEED_FILE.exec(seed);
  return m ? `seed ${m[1]}` : seed;
}

/** `seed 004 · WebSocket Implementation for Real-Time Communication` for a seed file, else the source as given. */
export function seedLabel(seed: string): string {
  const m = SEED_FILE.exec(seed);
  if (!m) return seed;
  const title = SEED_TITLES[seed];
  return title ? `seed ${m[1]} · ${title}` : `seed ${m[1]}`;
}

/** A target's source as the renderers see it (model/run-report.ts TargetResult.source). */
type Source = { seed?: string; quote?: string; section?: string; config?: string };

/** Short source column: `config wsbench.config.json` when the user set or added the target, else `seed 004`. */
export function sourceShort(s: Source): string {
  return s.config !== undefined ? `config ${s.config}` : seedShort(s.seed ?? '');
}

/**
 * The source in one line: the seed's sentence and document, and — when the user set, added or
 * switched off the target — the config that did (`set in wsbench.config.json`).
 */
export function sourceLine(s: Source): string {
  const seed = s.seed !== undefined && s.quote !== undefined ? `"${s.quote}" (${seedLabel(s.seed)}${s.section ? `, ${s.section}` : ''})` : '';
  const config = s.config !== undefined ? `set in ${s.config}` : '';
  return seed && config ? `${config}; seed: ${seed}` : seed || config;
}
