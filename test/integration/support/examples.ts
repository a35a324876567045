/**
 * Test support for the examples (examples/seed-000, examples/seed-002): a named run of an example's
 * wsbench.config.ts through the real bin, into a fresh folder, and its report.json.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '../../../model/run-report.js';
import { wsbench, type CliResult } from './cli.js';

/** The example's config file, e.g. exampleConfig('seed-000'). */
export function exampleConfig(example: string): string {
  return fileURLToPath(new URL(`../../../examples/${example}/wsbench.config.ts`, import.meta.url));
}

export interface ExampleRun extends CliResult {
  out: string;
  /** report.json of the run; undefined when none was written. */
  report: RunReport | undefined;
}

/** `wsbench run <name> --config examples/<example>/wsbench.config.ts --out <tmp> …flags`, `env` added to the environment. */
export async function runExample(example: string, name: string, flags: string[] = [], env: Record<string, string> = {}): Promise<ExampleRun> {
  const out = mkdtempSync(join(tmpdir(), `wsb-${example}-${name}-`));
  const res = await wsbench(['run', name, '--config', exampleConfig(example), '--out', out, ...flags], { env: { ...process.env, ...env } });
  const file = join(out, 'report.json');
  const report = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunReport) : undefined;
  return { ...res, out, report };
}
