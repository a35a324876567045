import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, mintToken } from './token.js';
import { DEFAULT_MAX_BUFFERED_BYTES, INSECURE_CHECKS, INSECURE_MAX_PAYLOAD, normalizeOrigin, parseAllowedOrigins, parseInsecureDisable, securityPolicy } from './security.js';
import { guardEngineSocket, packetBytes } from './backpressure.js';
import { parseServerArgs } from './options.js';

const SECRET = 'security-test-secret';
const base = { rateLimit: 100, maxPayload: 1_048_576 };

describe('securityPolicy', () => {
  it('allows handshakes without an Origin and refuses every browser origin by default', async () => {
    const p = securityPolicy(base, await createTokenVerifier(SECRET));
    expect(p.originAllowed(undefined)).toBe(true);
    expect(p.originAllowed('')).toBe(true);
    expect(p.originAllowed('https://evil.example')).toBe(false);
    expect(p.originAllowed('null')).toBe(false);
    expect(p.originAllowed('http://127.0.0.1:8080')).toBe(false);
  });

  it('allows exactly the listed origins (normalised), or any with *', async () => {
    const verify = await createTokenVerifier(SECRET);
    const p = securityPolicy({ ...base, allowedOrigins: parseAllowedOrigins('https://App.example.com, http://localhost:3000/') }, verify);
    expect(p.originAllowed('https://app.example.com')).toBe(true);
    expect(p.originAllowed('http://localhost:3000')).toBe(true);
    expect(p.originAllowed('https://app.example.com:8443')).toBe(false);
    expect(p.originAllowed('https://evil.example')).toBe(false);
    expect(securityPolicy({ ...base, allowedOrigins: ['*'] }, verify).originAllowed('https://evil.example')).toBe(true);
    expect(() => parseAllowedOrigins('app.example.com')).toThrow(/not an origin/);
    expect(normalizeOrigin('HTTPS://A.B:443/x')).toBe('https://a.b');
  });

  it('enforces every check by default: token, rooms, rate, size, send buffer', async () => {
    const p = securityPolicy(base, await createTokenVerifier(SECRET));
    expect(p.disabled).toEqual([]);
    await expect(p.authenticate(undefined)).rejects.toMatchObject({ code: 'no_token' });
    await expect(p.authenticate('not-a-jwt')).rejects.toMatchObject({ code: 'ERR_JWS_INVALID' });
    const grant = await p.authenticate(await mintToken(SECRET, { sub: 'u', rooms: ['a'] }));
    expect(p.mayUse(grant, 'a')).toBe(true);
    expect(p.mayUse(grant, 'b')).toBe(false);
    expect(p.rateLimit).toBe(100);
    expect(p.maxPayload).toBe(1_048_576);
    expect(p.maxBufferedBytes).toBe(DEFAULT_MAX_BUFFERED_BYTES);
  });

  it('--insecure-disable turns off exactly the named checks (test/calibration only)', async () => {
    const verify = await createTokenVerifier(SECRET);
    const off = (c: (typeof INSECURE_CHECKS)[number]) => securityPolicy({ ...base, insecureDisable: [c] }, verify);
    await expect(off('auth').authenticate(undefined)).resolves.toEqual({ sub: 'anonymous', rooms: null });
    await expect(off('auth').authenticate('not-a-jwt')).resolves.toEqual({ sub: 'anonymous', rooms: null });
    // a valid token keeps its own rooms: room authorization is a separate check
    const own = await off('auth').authenticate(await mintToken(SECRET, { sub: 'u', rooms: ['a'] }));
    expect(off('auth').mayUse(own, 'b')).toBe(false);
    expect(off('room-auth').mayUse(own, 'b')).toBe(true);
    expect(off('origin').originAllowed('https://evil.example')).toBe(true);
    expect(off('rate-limit').rateLimit).toBe(Infinity);
    expect(off('size-limit').maxPayload).toBe(INSECURE_MAX_PAYLOAD);
    expect(off('buffer-limit').maxBufferedBytes).toBe(0);
    expect(() => parseInsecureDisable('auth,firewall')).toThrow(/unknown check\(s\) firewall/);
    expect(parseInsecureDisable('auth, origin,auth')).toEqual(['auth', 'origin']);
  });
});

describe('reference-server flags', () => {
  it('parses --allowed-origins, --max-buffered-bytes and --insecure-disable; refuses bad values (exit 2 path)', () => {
    const a = parseServerArgs(['--allowed-origins', 'https://a.example', '--max-buffered-bytes', '65536', '--insecure-disable', 'origin,rate-limit'], { WSB_JWT_SECRET: 's' });
    expect(a).toMatchObject({ allowedOrigins: ['https://a.example'], maxBufferedBytes: 65536, insecureDisable: ['origin', 'rate-limit'] });
    const d = parseServerArgs([], { WSB_JWT_SECRET: 's' });
    expect(d).toMatchObject({ allowedOrigins: [], maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES, insecureDisable: [] });
    expect(() => parseServerArgs(['--insecure-disable', 'tls'], { WSB_JWT_SECRET: 's' })).toThrow(/--insecure-disable: unknown check/);
    expect(() => parseServerArgs(['--allowed-origins', 'nope'], { WSB_JWT_SECRET: 's' })).toThrow(/--allowed-origins: 'nope' is not an origin/);
    expect(() => parseServerArgs(['--max-buffered-bytes', '0'], { WSB_JWT_SECRET: 's' })).toThrow(/--max-buffered-bytes must be between 1/);
  });
});

describe('guardEngineSocket (socket.io send-buffer limit)', () => {
  function fakeConn() {
    const conn = new EventEmitter() as EventEmitter & { transport: { socket: { bufferedAmount: number; terminated: number; terminate(): void } }; close(): void; closed: number };
    conn.transport = { socket: { bufferedAmount: 0, terminated: 0, terminate() { this.terminated++; } } };
    conn.closed = 0;
    conn.close = () => void conn.closed++;
    return conn;
  }

  it('counts what waits in the write buffer (reset by a flush) plus the socket, and terminates once past the limit', async () => {
    const conn = fakeConn();
    let drops = 0;
    guardEngineSocket(conn, 1000, () => drops++);
    conn.emit('packetCreate', { data: 'x'.repeat(600) });
    conn.emit('flush');
    conn.emit('packetCreate', { data: 'x'.repeat(600) });
    expect(drops).toBe(0);
    conn.transport.socket.bufferedAmount = 500;
    conn.emit('packetCreate', { data: Buffer.alloc(10) });
    expect(drops).toBe(1);
    conn.emit('packetCreate', { data: 'x'.repeat(5000) });
    expect(drops).toBe(1);
    await Promise.resolve();
    expect(conn.transport.socket.terminated).toBe(1);
    expect(packetBytes(new Uint8Array(7))).toBe(7);
    expect(packetBytes(undefined)).toBe(0);
  });
});
