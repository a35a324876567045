/** `wsbench merge <partial.json…>`: one report from the partial reports of `wsbench run --shard i/N`. */
import type { Command } from 'commander';
import { mergeCommand } from './merge-run.js';

export function addMergeCommand(prog: Command, onExitCode: (code: number) => void): void {
  prog
    .command('merge')
    .argument('<partials...>', 'partial.json files (or run folders holding one) written by `wsbench run … --shard i/N`, one per shard; with --k6-operator: the folder(s) holding the runners\' files')
    .description('merge the shards of one plan into one report: percentiles from merged HDR histograms, accounting summed, targets judged once on the whole; exit like a run (0 pass, 1 target missed, 2 error)')
    .option('--out <dir>', 'output folder for report.json, report.html, junit.xml (default wsbench-results/<plan>-merged-<time>)')
    .option('--json', 'print the JSON report on stdout instead of the table')
    .option('--k6-operator <manifest>', 'merge a k6-operator TestRun: the manifest `wsbench render k6-operator` wrote (file or --out folder); each runner\'s <name>-<i>.summary.json and .samples.json.gz are read from the folders given')
    .action(async (files: string[], opts: { out?: string; json?: boolean; k6Operator?: string }) => {
      onExitCode(await mergeCommand(files, opts, { stdout: process.stdout, stderr: process.stderr }));
    });
}
