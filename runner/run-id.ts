import { randomBytes } from 'node:crypto';

/** A run's id: `<scenario>-<UTC yyyymmdd-hhmmss>-<4 hex>` (also its folder under wsbench-results/). */
export function newRunId(scenario: string, now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${scenario}-${ts}-${randomBytes(2).toString('hex')}`;
}
