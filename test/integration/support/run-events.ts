import { eventLines } from '../../../reports/run-event-lines.js';
import type { RunEvent } from '../../../model/run-events.js';

/** A run's events as the CLI shows them (log lines, engine output, progress), written to `out`. */
export function eventsInto(out: NodeJS.WritableStream): (e: RunEvent) => void {
  return eventLines((t) => out.write(t)).onEvent;
}
