import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildPlan } from '../../../cli/plan.js';
import { run, type RunOutcome } from '../../../runner/run.js';
import { eventsInto } from './run-events.js';

/** Small chaos-scenario defaults: 150 connections in 5 rooms at 5 msg/s, 1 s warm-up, 2 s drain. */
export const SMALL_BROADCAST = { connections: '150', rooms: '5', rate: '5', warmup: '1', drain: '2' };

/**
 * Runs a scenario in-process through the library's `run()` (as the CLI does) into a fresh temp
 * folder; collects stderr and every pid the run started (polled, so short-lived ones are seen too).
 */
export async function runScenario(name: string, flags: Record<string, unknown>): Promise<{ outcome: RunOutcome; stderr: string; pids: number[]; out: string }> {
  const out = mkdtempSync(join(tmpdir(), `wsb-${name}-`));
  const plan = buildPlan(name, { ...flags, out });
  let stderr = '';
  const err = new PassThrough();
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  let pids: () => number[] = () => [];
  const seen = new Set<number>();
  const poll = setInterval(() => pids().forEach((p) => seen.add(p)), 200);
  try {
    const outcome = await run(plan, { onEvent: eventsInto(err), signal: new AbortController().signal, onPids: (p) => (pids = p) });
    return { outcome, stderr, pids: [...seen], out };
  } finally {
    clearInterval(poll);
  }
}
