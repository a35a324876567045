import { describe, expect, it } from 'vitest';
import { ExternalDriver, externalUrlProblems, httpForm, isLoopbackHost, isTlsUrl } from './external-driver.js';
import { SERVER_DEFAULTS } from './types.js';

describe('--url (external driver)', () => {
  // Parsing only: wsbench's tests never send traffic to a non-loopback address.
  it('accepts http(s)/ws(s) URLs of any host, scheme://host[:port] only', () => {
    expect(externalUrlProblems('--url', 'http://127.0.0.1:8080')).toEqual([]);
    expect(externalUrlProblems('--url', 'ws://localhost:8080')).toEqual([]);
    expect(externalUrlProblems('--url', 'http://[::1]:8080')).toEqual([]);
    expect(externalUrlProblems('--url', 'http://10.0.0.1:8080')).toEqual([]);
    expect(externalUrlProblems('--url', 'wss://ws.example.com')).toEqual([]);
    expect(externalUrlProblems('--url', 'https://127.0.0.1:8443')).toEqual([]);
    expect(externalUrlProblems('--url', 'ftp://127.0.0.1:21')[0]).toMatch(/must be an http:\/\/, https:\/\/, ws:\/\/ or wss:\/\/ URL/);
    expect(externalUrlProblems('--url', 'http://127.0.0.1:8080/app')[0]).toMatch(/just scheme:\/\/host\[:port\]/);
    expect(externalUrlProblems('--url', '127.0.0.1:8080')[0]).toMatch(/not a URL|must be an http/);
    expect(isTlsUrl('wss://ws.example.com')).toBe(true);
    expect(isTlsUrl('ws://ws.example.com')).toBe(false);
    expect(httpForm('wss://ws.example.com:8443/')).toBe('https://ws.example.com:8443');
    expect(httpForm('ws://10.1.2.3:80')).toBe('http://10.1.2.3:80');
    expect(isLoopbackHost('127.3.2.1')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
  });

  it('refuses to start against a URL nothing answers (WSB_TARGET_UNREACHABLE)', async () => {
    const driver = new ExternalDriver({ url: 'http://127.0.0.1:9', nodeUrls: [] });
    const t = { server: 'socketio' as const, nodes: 1, lb: 'nginx' as const, lbPolicy: 'ip_hash' as const, lbPort: 0, expectedConnections: 1, serverOptions: SERVER_DEFAULTS, jwtSecret: 's', readyTimeoutMs: 1000 };
    await expect(driver.start(t, { runId: 'x', runDir: '/tmp' })).rejects.toMatchObject({ code: 'WSB_TARGET_UNREACHABLE', exitCode: 2, hint: expect.stringContaining('--url') });
  });
});
