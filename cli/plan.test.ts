import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WsbenchError } from '../common/errors.js';
import { buildPlan } from './plan.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof WsbenchError ? e.code : 'not-a-WsbenchError';
  }
  return undefined;
}

describe('buildPlan', () => {
  it('applies defaults, then the config file, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-plan-'));
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ connections: 2000, rooms: 20, nodes: 2, targets: { 'latency-p99': 30 } }));
    const plan = buildPlan('cross-node-broadcast', { config: cfg, rooms: '25' });
    expect(plan.options.connections).toBe(2000);
    expect(plan.options.rooms).toBe(25);
    expect(plan.options.rate).toBe(8);
    expect(plan.topology.nodes).toBe(2);
    expect(plan.topology.lbPolicy).toBe('ip_hash');
    expect(plan.targets.find((t) => t.id === 'latency-p99')!.value).toBe(30);
  });

  it('reads a scenario flag under the name commander gives it (--publishers → publishers), over the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsb-plan-'));
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ options: { publishersPerRoom: 3 } }));
    expect(buildPlan('cross-node-broadcast', { config: cfg }).options.publishersPerRoom).toBe(3);
    expect(buildPlan('cross-node-broadcast', { config: cfg, publishers: '2' }).options.publishersPerRoom).toBe(2);
    expect(buildPlan('node-kill', { publishers: '2' }).options.publishersPerRoom).toBe(2);
  });

  it('takes --server socketio|ws|bun (default socketio), from a flag or the config file', () => {
    expect(buildPlan('cross-node-broadcast', {}).topology.server).toBe('socketio');
    expect(buildPlan('cross-node-broadcast', { server: 'ws' }).topology.server).toBe('ws');
    const dir = mkdtempSync(join(tmpdir(), 'wsb-plan-'));
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ server: 'bun' }));
    expect(buildPlan('cross-node-broadcast', { config: cfg }).topology.server).toBe('bun');
    expect(codeOf(() => buildPlan('cross-node-broadcast', { server: 'uws' }))).toBe('WSB_INVALID_OPTION');
  });

  it('takes --adapter redis|redis-streams for the socketio server only (default redis)', () => {
    expect(buildPlan('node-kill', {}).topology.adapter).toBe('redis');
    expect(buildPlan('node-kill', { adapter: 'redis-streams' }).topology.adapter).toBe('redis-streams');
    expect(buildPlan('node-kill', { server: 'ws' }).topology.adapter).toBeUndefined();
    expect(codeOf(() => buildPlan('node-kill', { adapter: 'kafka' }))).toBe('WSB_INVALID_OPTION');
    for (const server of ['ws', 'bun']) {
      let message = '';
      try {
        buildPlan('node-kill', { server, adapter: 'redis-streams' });
      } catch (e) {
        expect((e as WsbenchError).code).toBe('WSB_INVALID_OPTION');
        message = (e as Error).message;
      }
      expect(message).toContain('--adapter: only applies with --server socketio');
    }
  });

  it('raises the rate limit for load and records why', () => {
    const plan = buildPlan('cross-node-broadcast', { rate: '20' });
    expect(plan.topology.serverOptions.rateLimit).toBeGreaterThanOrEqual(20 * 60);
    expect(plan.serverOverrides.map((o) => o.setting)).toContain('rateLimit');
  });

  it('reports every problem at once, in flag names', () => {
    try {
      buildPlan('cross-node-broadcast', { connections: 'abc', duration: '0', nodes: '0' });
      expect.unreachable();
    } catch (e) {
      const err = e as WsbenchError;
      expect(err.code).toBe('WSB_INVALID_OPTION');
      expect(err.message).toContain('--connections');
      expect(err.message).toContain('--duration');
      expect(err.message).toContain('--nodes');
    }
  });

  it('codes unknown scenarios, bad target overrides, and config problems', () => {
    expect(codeOf(() => buildPlan('nope', {}))).toBe('WSB_UNKNOWN_SCENARIO');
    expect(codeOf(() => buildPlan('cross-node-broadcast', { target: ['latency-p99=fast'] }))).toBe('WSB_INVALID_OPTION');
    expect(codeOf(() => buildPlan('cross-node-broadcast', { target: ['thruput=5'] }))).toBe('WSB_INVALID_OPTION');
    // A seed target the scenario does not judge is added when given a threshold (the user asked for it).
    expect(buildPlan('cross-node-broadcast', { target: ['throughput=5'] }).targets.at(-1)).toMatchObject({ id: 'throughput', value: 5, source: { config: 'command line' } });
    expect(codeOf(() => buildPlan('cross-node-broadcast', { config: '/nonexistent/wsb.json' }))).toBe('WSB_CONFIG_INVALID');
    const dir = mkdtempSync(join(tmpdir(), 'wsb-plan-'));
    writeFileSync(join(dir, 'u.json'), JSON.stringify({ conections: 5 }));
    expect(codeOf(() => buildPlan('cross-node-broadcast', { config: join(dir, 'u.json') }))).toBe('WSB_CONFIG_INVALID');
  });
});
