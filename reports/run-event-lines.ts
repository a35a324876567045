/**
 * A run's events (runner `onEvent`) as terminal text: log lines as they are, an engine's output as
 * `k6 │ …`, progress as one line rewritten in place on a terminal or one line every 5 s elsewhere.
 * Writes through the function it is given; the caller (the CLI) owns the terminal.
 */
import type { RunEvent } from '../model/run-events.js';
import { renderProgressLine } from './console.js';

export interface EventLines {
  onEvent(e: RunEvent): void;
  /** Ends a progress line still being rewritten (call before writing anything else). */
  end(): void;
}

export function eventLines(write: (text: string) => void, opts: { tty?: boolean; prefix?: string; progressEveryMs?: number } = {}): EventLines {
  const prefix = opts.prefix ?? '';
  const every = opts.progressEveryMs ?? 5000;
  let lastProgress = 0;
  let progressShown = false;
  const end = () => {
    if (progressShown) write('\n');
    progressShown = false;
  };
  const line = (text: string) => {
    end();
    write(`${prefix}${text}\n`);
  };
  return {
    end,
    onEvent(e) {
      switch (e.type) {
        case 'log':
          line(e.message);
          break;
        case 'output':
          line(`${e.source} │ ${e.line}`);
          break;
        case 'progress': {
          const text = renderProgressLine(e.snapshot);
          if (opts.tty) {
            write(`\r${prefix}${text}\x1b[K`);
            progressShown = true;
          } else if (Date.now() - lastProgress >= every) {
            lastProgress = Date.now();
            line(text);
          }
          break;
        }
        case 'event':
          // On the report's timeline; the log lines already say what a user needs live.
          break;
      }
    },
  };
}
