/**
 * Writing and reading the JSON RunReport. Writes are atomic (temp file in the same folder, fsync,
 * rename), so a crash or Ctrl-C mid-write never leaves a half report where a CI gate reads it.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { WsbenchError } from '../common/errors.js';
import { SCHEMA_VERSION, type RunReport } from './run-report.js';

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Writes `report` as pretty JSON to `path`: creates the folder, writes a temp file beside the
 * target, fsyncs it, and renames it over the target. On any failure the temp file is removed and a
 * WsbenchError `WSB_REPORT_WRITE_FAILED` (exit code 2) is thrown, with the cause attached.
 */
export async function writeReportAtomic(path: string, report: RunReport): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let body: string;
  try {
    body = `${JSON.stringify(report, null, 2)}\n`;
  } catch (e) {
    throw new WsbenchError('WSB_REPORT_WRITE_FAILED', `cannot serialise the report for ${target}: ${message(e)}`, { cause: e });
  }
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(body, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new WsbenchError('WSB_REPORT_WRITE_FAILED', `cannot write the report to ${target}: ${message(e)}`, {
      hint: 'check that the --out folder exists or can be created and is writable',
      cause: e,
    });
  }
}

const accounting = z.object({
  expected: z.number(),
  received: z.number(),
  lost: z.number(),
  duplicated: z.number(),
  reordered: z.number(),
  deliveryRatio: z.number(),
});

/**
 * The minimal shape a report must have to be read back: the schema version and every required
 * top-level key, with the containers the renderers walk. Unknown keys pass through.
 */
const reportShape = z
  .object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    tool: z.object({ name: z.literal('wsbench'), version: z.string() }).passthrough(),
    runId: z.string(),
    startedAt: z.string(),
    finishedAt: z.string(),
    durationMs: z.number(),
    environment: z.object({}).passthrough(),
    topology: z.object({ nodes: z.number(), overrides: z.array(z.unknown()) }).passthrough(),
    scenario: z.object({ name: z.string(), describe: z.string() }).passthrough(),
    options: z.record(z.unknown()),
    metrics: z.record(z.object({ count: z.number(), p99: z.number() }).passthrough()),
    counters: z.record(z.number()),
    accounting: accounting.extend({ sameNode: accounting, crossNode: accounting }).passthrough(),
    connectionsPerNode: z.record(z.number()),
    timeline: z.array(z.unknown()),
    events: z.array(z.unknown()),
    generator: z.object({ workers: z.array(z.unknown()), bottleneck: z.boolean(), notes: z.array(z.string()) }).passthrough(),
    targets: z.array(z.object({ id: z.string(), status: z.enum(['pass', 'fail', 'unknown']) }).passthrough()),
    verdict: z.enum(['pass', 'fail', 'error', 'interrupted']),
    error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).optional(),
  })
  .passthrough();

function invalid(path: string, what: string, cause?: unknown): WsbenchError {
  return new WsbenchError('WSB_REPORT_INVALID', `${path} is not a readable wsbench report: ${what}`, {
    hint: `pass a report.json written by wsbench with schemaVersion ${SCHEMA_VERSION}`,
    cause,
  });
}

/**
 * Reads and validates a report written by writeReportAtomic. Throws a WsbenchError
 * (`WSB_REPORT_INVALID`, exit code 2) naming the file and the problem when the file is missing,
 * is not JSON (e.g. truncated), has another schemaVersion, or lacks a required key.
 */
export async function readReport(path: string): Promise<RunReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw invalid(path, message(e), e);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw invalid(path, `not valid JSON (truncated or corrupt?): ${message(e)}`, e);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw invalid(path, 'not a JSON object');
  const version = (data as Record<string, unknown>).schemaVersion;
  if (version !== SCHEMA_VERSION) {
    throw invalid(path, `schemaVersion is ${JSON.stringify(version)}, this wsbench reads ${SCHEMA_VERSION}`);
  }
  const parsed = reportShape.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw invalid(path, problems.join('; '));
  }
  return data as RunReport;
}
