import { describe, expect, it } from 'vitest';
import type { ProgressSnapshot } from '../model/progress.js';
import { eventLines } from './run-event-lines.js';

const snap = (elapsedS: number): ProgressSnapshot => ({ phase: 'measure', elapsedS, connected: 300, total: 300, sentPerS: 50, receivedPerS: 1450, p99Ms: 1.5 });

describe('eventLines (a run’s events as terminal text)', () => {
  it('writes log lines and engine output, one per line, with the prefix; report events stay silent', () => {
    let out = '';
    const l = eventLines((t) => (out += t), { prefix: '  [drop] ' });
    l.onEvent({ type: 'log', message: 'starting cluster' });
    l.onEvent({ type: 'event', event: { atMs: 5, type: 'cluster', detail: 'starting' } });
    l.onEvent({ type: 'output', source: 'k6', line: 'running (0m01.0s)' });
    expect(out).toBe('  [drop] starting cluster\n  [drop] k6 │ running (0m01.0s)\n');
  });

  it('on a terminal rewrites one progress line in place and ends it before the next log line', () => {
    let out = '';
    const l = eventLines((t) => (out += t), { tty: true });
    l.onEvent({ type: 'progress', snapshot: snap(1) });
    l.onEvent({ type: 'progress', snapshot: snap(2) });
    l.onEvent({ type: 'log', message: 'tearing down…' });
    const parts = out.split('\r').slice(1);
    expect(parts).toHaveLength(2);
    expect(parts[0].endsWith('\x1b[K')).toBe(true);
    expect(parts[1]).toMatch(/2\.0s.*\x1b\[K\ntearing down…\n$/);
  });

  it('elsewhere writes progress as whole lines, at most one per interval', () => {
    let out = '';
    const l = eventLines((t) => (out += t), { progressEveryMs: 60_000 });
    for (let s = 1; s <= 5; s++) l.onEvent({ type: 'progress', snapshot: snap(s) });
    expect(out.split('\n').filter(Boolean)).toHaveLength(1);
    expect(out).not.toContain('\r');
  });
});
