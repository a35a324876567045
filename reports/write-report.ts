/**
 * Writing and reading the JSON RunReport. Writes are atomic (temp file in the same folder, fsync,
 * rename), so a crash or Ctrl-C mid-write never leaves a half report where a CI gate reads it.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WsbenchError } from '../common/errors.js';
import { SCHEMA_VERSION, type RunReport } from '../model/run-report.js';
import { REPORT_SCHEMA_PATH, formatProblems, validateReport } from '../model/schema.js';

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Writes `report` as pretty JSON to `path`: validates it against the RunReport schema (as it will
 * be read back, i.e. after JSON serialisation), creates the folder, writes a temp file beside the
 * target, fsyncs it, and renames it over the target. A report that does not match the schema is
 * not written: WsbenchError `WSB_REPORT_INVALID` naming the first problems by path. On any write
 * failure the temp file is removed and a WsbenchError `WSB_REPORT_WRITE_FAILED` (exit code 2) is
 * thrown, with the cause attached.
 */
export async function writeReportAtomic(path: string, report: RunReport): Promise<void> {
  const target = resolve(path);
  let body: string;
  try {
    body = `${JSON.stringify(report, null, 2)}\n`;
  } catch (e) {
    throw new WsbenchError('WSB_REPORT_WRITE_FAILED', `cannot serialise the report for ${target}: ${message(e)}`, { cause: e });
  }
  const problems = validateReport(JSON.parse(body));
  if (problems.length > 0) {
    throw new WsbenchError('WSB_REPORT_INVALID', `the report for ${target} does not match the RunReport schema: ${formatProblems(problems)}`, {
      hint: `this is a wsbench bug (the run produced a report outside ${REPORT_SCHEMA_PATH}); run with --debug and report it`,
    });
  }
  await writeFileAtomic(target, body);
}

/**
 * Writes `body` to `path` atomically (temp file beside it, fsync, rename): the file is either
 * complete or absent (an existing one is replaced whole). Creates the folder. Throws WsbenchError
 * `WSB_REPORT_WRITE_FAILED` on failure, after removing the temp file; `opts.hint` names the flag
 * that chose the path (default: `--out`).
 */
export async function writeFileAtomic(path: string, body: string, opts: { hint?: string } = {}): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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
    throw new WsbenchError('WSB_REPORT_WRITE_FAILED', `cannot write ${target}: ${message(e)}`, {
      hint: opts.hint ?? 'check that the --out folder exists or can be created and is writable',
      cause: e,
    });
  }
}

function invalid(path: string, what: string, cause?: unknown): WsbenchError {
  return new WsbenchError('WSB_REPORT_INVALID', `${path} is not a readable wsbench report: ${what}`, {
    hint: `pass a report.json written by wsbench with schemaVersion ${SCHEMA_VERSION}`,
    cause,
  });
}

/**
 * Reads and validates a report written by writeReportAtomic. Throws a WsbenchError
 * (`WSB_REPORT_INVALID`, exit code 2) naming the file and the problem when the file is missing,
 * is not JSON (e.g. truncated), has another schemaVersion, or does not match the RunReport schema
 * (`model/run-report.schema.json`; the first problems are named by path).
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
  const problems = validateReport(data);
  if (problems.length > 0) throw invalid(path, formatProblems(problems));
  return data as RunReport;
}
