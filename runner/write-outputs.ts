/**
 * Writes a run's report files into its folder: report.json (validated against the schema), and
 * beside it report.html and junit.xml (issue #6), each atomic: complete or absent. A runner step:
 * the renderers in reports/ are pure functions of the report.
 */
import { join } from 'node:path';
import { WsbenchError, isWsbenchError } from '../common/errors.js';
import type { RunReport } from '../model/run-report.js';
import { renderHtml } from '../reports/html.js';
import { renderJunit } from '../reports/junit.js';
import { writeFileAtomic, writeReportAtomic } from '../reports/write-report.js';

export interface WrittenOutputs {
  /** report.json, when it was written. */
  reportWritten: boolean;
  /** The other files written beside it (file names). */
  also: string[];
  /** The first thing that went wrong. */
  failure?: WsbenchError;
}

/** `opts.junit: false`: no junit.xml (a repeated run's own folder: a CI collecting `**\/junit.xml` judges the combined report only). */
export async function writeRunOutputs(outDir: string, report: RunReport, opts: { junit?: boolean } = {}): Promise<WrittenOutputs> {
  const reportPath = join(outDir, 'report.json');
  let failure: WsbenchError | undefined;
  let reportWritten = false;
  try {
    await writeReportAtomic(reportPath, report);
    reportWritten = true;
  } catch (e) {
    if (isWsbenchError(e) && e.code === 'WSB_REPORT_INVALID') {
      // A report outside the schema is a wsbench bug: keep the measurements for the bug report.
      await writeFileAtomic(join(outDir, 'report.invalid.json'), `${JSON.stringify(report, null, 2)}\n`).catch(() => undefined);
      failure = e;
    } else {
      failure = new WsbenchError('WSB_REPORT_WRITE_FAILED', `cannot write ${reportPath}: ${(e as Error).message}`, { hint: 'choose a writable --out folder' });
    }
  }
  const also: string[] = [];
  const renderers: Array<[string, (r: RunReport) => string]> = [['report.html', renderHtml], ...(opts.junit === false ? [] : [['junit.xml', renderJunit] as [string, (r: RunReport) => string]])];
  for (const [file, render] of reportWritten ? renderers : []) {
    try {
      await writeFileAtomic(join(outDir, file), render(report));
      also.push(file);
    } catch (e) {
      failure ??= isWsbenchError(e)
        ? e
        : new WsbenchError('WSB_INTERNAL', `cannot render ${file}: ${(e as Error).message}`, { hint: 'this is a wsbench bug; run with --debug and report it', cause: e });
    }
  }
  return { reportWritten, also, ...(failure ? { failure } : {}) };
}
