import { describe, expect, it } from 'vitest';
import { ExternalDriver, externalUrlProblems, isLoopbackHost } from './external-driver.js';
import { SERVER_DEFAULTS } from './types.js';

describe('--url (external driver)', () => {
  it('accepts loopback http/ws URLs of a host:port only', () => {
    expect(externalUrlProblems('--url', 'http://127.0.0.1:8080')).toEqual([]);
    expect(externalUrlProblems('--url', 'ws://localhost:8080')).toEqual([]);
    expect(externalUrlProblems('--url', 'http://[::1]:8080')).toEqual([]);
    expect(externalUrlProblems('--url', 'http://10.0.0.1:8080')[0]).toMatch(/not on loopback/);
    expect(externalUrlProblems('--url', 'https://127.0.0.1:8443')[0]).toMatch(/must be an http:\/\/ or ws:\/\/ URL/);
    expect(externalUrlProblems('--url', 'http://127.0.0.1:8080/app')[0]).toMatch(/just scheme:\/\/host:port/);
    expect(externalUrlProblems('--url', '127.0.0.1:8080')[0]).toMatch(/not a URL|must be an http/);
    expect(isLoopbackHost('127.3.2.1')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
  });

  it('refuses to start against a URL nothing answers (WSB_TARGET_UNREACHABLE)', async () => {
    const driver = new ExternalDriver({ url: 'http://127.0.0.1:9', nodeUrls: [] });
    const t = { server: 'socketio' as const, nodes: 1, lb: 'nginx' as const, lbPolicy: 'ip_hash' as const, lbPort: 0, expectedConnections: 1, serverOptions: SERVER_DEFAULTS, jwtSecret: 's', readyTimeoutMs: 1000 };
    await expect(driver.start(t, { runId: 'x', runDir: '/tmp' })).rejects.toMatchObject({ code: 'WSB_TARGET_UNREACHABLE', exitCode: 2, hint: expect.stringContaining('--url') });
  });
});
