/**
 * The `compare` section of a config file: the tolerances of `wsbench compare` (issue 15 part 1:
 * "tolerances per value, overridable in the config"). `wsbench compare base.json cur.json
 * --config wsbench.config.ts` reads it; its flags override it key by key.
 *
 *   compare: {
 *     maxRegression: 10,                                   // % in the worse direction (default 10)
 *     latencyFloor: 1,                                     // ms: a smaller latency change never regresses (default 1)
 *     ratioTolerance: 0.1,                                 // percentage points for delivery ratios (default 0.1)
 *     metrics: { 'broadcast_latency_ms.p99': 25, deliveryRatio: 0.5 },  // per value or group (as --metric)
 *     allowMissing: false,                                 // as --allow-missing
 *     allowDifferentOptions: false,                        // as --allow-different-options
 *   }
 *
 * `wsbench run --config` accepts the section and checks it too, so one file holds the run and its gate.
 */
import { z } from 'zod';

const tolerance = z.number({ invalid_type_error: 'expected a number' }).finite().min(0, 'expected a number ≥ 0');

export const compareConfigSchema = z
  .object({
    /** Tolerated change in the worse direction, in % (default 10; `--max-regression`). */
    maxRegression: tolerance.optional(),
    /** A latency change smaller than this many ms is never a regression (default 1; `--latency-floor`). */
    latencyFloor: tolerance.optional(),
    /** Tolerance of delivery ratios, in percentage points (default 0.1). */
    ratioTolerance: tolerance.max(100, 'expected percentage points from 0 to 100').optional(),
    /** Per value or group: % (percentage points for a ratio), as `--metric <name>=<pct>`. */
    metrics: z.record(z.string(), tolerance).optional(),
    /** A value the baseline measured and current lacks is listed, not a failure (`--allow-missing`). */
    allowMissing: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
    /** A different workload only warns (`--allow-different-options`). */
    allowDifferentOptions: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
  })
  .strict();

export type CompareConfig = z.infer<typeof compareConfigSchema>;

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** Each problem of a `compare` section, as `compare.<key>: <what was expected> (got <value>)`. */
export function compareConfigProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`compare: expected an object of tolerances (got ${show(value)})`];
  const parsed = compareConfigSchema.safeParse(value);
  if (parsed.success) return [];
  const given = value as Record<string, unknown>;
  return parsed.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `compare: unknown key(s) ${i.keys.join(', ')} — keys: ${Object.keys(compareConfigSchema.shape).join(', ')}`;
    let v: unknown = given;
    for (const p of i.path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p as string] : undefined;
    return `compare.${i.path.map(String).join('.')}: ${i.message} (got ${show(v)})`;
  });
}
