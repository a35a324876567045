import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEED_LIMITS, SEED_TARGETS } from './targets.js';
import { readPath } from './evaluate.js';
import type { RunReport } from './run-report.js';

/** The seed documents live outside the repository; the verbatim check runs where they are present. */
// The seed documents are kept verbatim in fixtures/seeds/ so every quote can be checked word for word.
const SEEDS_DIR = fileURLToPath(new URL('../fixtures/seeds/', import.meta.url));

const fixture = (): RunReport => JSON.parse(readFileSync(new URL('../fixtures/sample-report.json', import.meta.url), 'utf8'));

describe('SEED_TARGETS', () => {
  it('has the ids the scenarios rely on, each keyed by its own id', () => {
    for (const id of ['latency-p99', 'cross-node-latency-p99', 'no-loss', 'no-duplicates', 'in-order', 'connections', 'throughput', 'reconnect-p99', 'memory-per-connection']) {
      expect(SEED_TARGETS[id]?.id).toBe(id);
    }
    for (const [key, t] of Object.entries(SEED_TARGETS)) {
      expect(t.id).toBe(key);
      expect(Number.isFinite(t.value)).toBe(true);
      expect(t.metric).toMatch(
        /^(metrics\.[a-z0-9_]+\.(p50|p90|p95|p99|p999|max|mean)|counters\.[a-z0-9_]+|accounting(\.(sameNode|crossNode|losses))?\.[a-zA-Z]+|windows\.[a-z0-9-]+\.((sameNode|crossNode|accounting)\.[a-zA-Z]+|broadcast_latency_ms\.(p50|p99|max)))$/,
      );
      expect(t.source.seed).toMatch(/^\d{3}_[0-9a-f]{16}\.txt$/);
    }
  });

  it('the accounting targets point at real fields of the report', () => {
    const r = fixture();
    for (const id of ['no-loss', 'no-duplicates', 'in-order']) expect(readPath(r, SEED_TARGETS[id].metric)).toBe(r.accounting[SEED_TARGETS[id].metric.split('.')[1] as 'lost']);
  });

  describe('quotes', () => {
    const all = [...Object.values(SEED_TARGETS).map((t) => t.source), ...Object.values(SEED_LIMITS).map((l) => l.source)];
    it.each(all.map((s) => [s.seed, s.quote, s.section ?? '']))('%s contains %j (section %s)', (seed, quote, section) => {
      const text = readFileSync(join(SEEDS_DIR, seed), 'utf8');
      expect(text).toContain(quote);
      // the quote sits under the named section: the nearest "## " heading above it
      const before = text.slice(0, text.indexOf(quote)).split('\n').filter((l) => /^##\s/.test(l));
      const heading = before.at(-1) ?? '';
      expect(heading).toContain(section.split(' / ')[0]);
    });
  });
});
