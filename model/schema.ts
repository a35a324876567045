/**
 * The published JSON Schema of the RunReport (`model/run-report.schema.json`, draft 2020-12) and
 * its validator (ajv). A report is validated when it is written and when it is read back, so a CI
 * gate never judges a file of another shape. The schema file sits in the package, not in dist/:
 * one copy, the one docs/report-format.md links to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { packageRoot } from '../common/paths.js';
import { WsbenchError } from '../common/errors.js';
import { SCHEMA_VERSION } from './run-report.js';

/** Path of the schema file inside the package. */
export const REPORT_SCHEMA_PATH = join('model', 'run-report.schema.json');

/** Problems listed in an error message at most; the rest are counted. */
const MAX_PROBLEMS = 5;

let validator: ValidateFunction | undefined;

/** The parsed schema object (read once from the package). */
export function reportSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageRoot(), REPORT_SCHEMA_PATH), 'utf8')) as Record<string, unknown>;
}

function compiled(): ValidateFunction {
  if (!validator) {
    // allErrors: name every problem, not only the first one ajv meets; strict: the schema itself
    // must use only known keywords (a typo in it would silently validate nothing).
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    validator = ajv.compile(reportSchema());
  }
  return validator;
}

/** `/metrics/broadcast_latency_ms/p99` → `metrics.broadcast_latency_ms.p99` (array indexes as `[3]`). */
function jsonPath(pointer: string, extra?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out === '' ? '(root)' : out;
}

function describeError(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${jsonPath(e.instancePath, String(p.missingProperty))}: is missing`;
    case 'const':
      return `${jsonPath(e.instancePath)}: must be ${JSON.stringify(p.allowedValue)}`;
    case 'enum':
      return `${jsonPath(e.instancePath)}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${jsonPath(e.instancePath)}: ${e.message ?? e.keyword}`;
  }
}

/**
 * Validates `data` against the RunReport schema. Returns the problems, each as
 * `<path>: <what is wrong>` (e.g. `metrics.broadcast_latency_ms.p99: must be number`), in the
 * order ajv finds them; an empty array when the report is valid.
 */
export function validateReport(data: unknown): string[] {
  const validate = compiled();
  if (validate(data)) return [];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of validate.errors ?? []) {
    // `allOf` and `if` (a split that may be null) repeat their sub-schema's errors under a second keyword; keep each message once.
    if (e.keyword === 'allOf' || e.keyword === 'if') continue;
    const line = describeError(e);
    if (!seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  }
  return out;
}

/** The first problems as one line, the rest counted: `a: …; b: …; and 3 more`. */
export function formatProblems(problems: readonly string[]): string {
  const head = problems.slice(0, MAX_PROBLEMS).join('; ');
  return problems.length > MAX_PROBLEMS ? `${head}; and ${problems.length - MAX_PROBLEMS} more` : head;
}

/**
 * Throws WsbenchError `WSB_REPORT_INVALID` (exit code 2) when `data` does not match the schema;
 * the message names `what` (a file, or "the report being written") and the first problems by path.
 */
export function assertValidReport(data: unknown, what: string): void {
  const problems = validateReport(data);
  if (problems.length === 0) return;
  throw new WsbenchError('WSB_REPORT_INVALID', `${what} does not match the RunReport schema: ${formatProblems(problems)}`, {
    hint: `a wsbench report (schemaVersion ${SCHEMA_VERSION}) must match ${REPORT_SCHEMA_PATH}; regenerate it with \`wsbench run\``,
  });
}
