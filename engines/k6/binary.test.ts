import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { k6ModuleAliases, locateK6, parseK6Version, resolveK6Path, versionAtLeast } from './binary.js';

describe('k6 version detection', () => {
  it('parses `k6 version` as v0.48.0 prints it (fixtures/k6/README.md) and as v1+ does', () => {
    expect(parseK6Version('k6 v0.48.0 (go1.19.8, linux/amd64)\n')).toEqual({ major: 0, minor: 48, patch: 0, raw: 'k6 v0.48.0 (go1.19.8, linux/amd64)' });
    expect(parseK6Version('k6 v1.6.1 (commit/91a97ab127, go1.25.6, linux/amd64)\nExtensions:\n  github.com/x/y v0.1.0, k6/x/y [js]\n')).toMatchObject({ major: 1, minor: 6, patch: 1 });
    expect(parseK6Version('k6 v2.3.0-rc1 (commit/devel, go1.26.3, linux/arm64)')).toMatchObject({ major: 2, minor: 3, patch: 0 });
    expect(parseK6Version('')).toBeNull();
    expect(parseK6Version('Python 3.11.2')).toBeNull();
  });

  it('compares versions', () => {
    const v = (s: string) => parseK6Version(`k6 ${s}`)!;
    expect(versionAtLeast(v('v0.50.0'), 0, 50)).toBe(true);
    expect(versionAtLeast(v('v0.49.9'), 0, 50)).toBe(false);
    expect(versionAtLeast(v('v1.0.0'), 0, 50)).toBe(true);
    expect(versionAtLeast(v('v1.5.3'), 1, 6)).toBe(false);
    expect(versionAtLeast(v('v1.6.0'), 1, 6)).toBe(true);
  });

  it('aliases the websockets and timers modules per version (k6/websockets since v1.6.0, k6/timers since v0.50.0)', () => {
    const v = (s: string) => parseK6Version(`k6 ${s}`)!;
    expect(k6ModuleAliases(v('v0.48.0'))).toEqual({ 'k6/websockets': 'k6/experimental/websockets', 'k6/timers': 'k6/experimental/timers' });
    expect(k6ModuleAliases(v('v0.54.0'))).toEqual({ 'k6/websockets': 'k6/experimental/websockets', 'k6/timers': 'k6/timers' });
    expect(k6ModuleAliases(v('v1.5.0'))).toEqual({ 'k6/websockets': 'k6/experimental/websockets', 'k6/timers': 'k6/timers' });
    expect(k6ModuleAliases(v('v1.6.0'))).toEqual({ 'k6/websockets': 'k6/websockets', 'k6/timers': 'k6/timers' });
    expect(k6ModuleAliases(v('v2.3.0'))).toEqual({ 'k6/websockets': 'k6/websockets', 'k6/timers': 'k6/timers' });
  });
});

describe('finding k6', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsb-k6-find-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const exe = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };

  it('looks at --k6, then K6_BIN, then PATH', () => {
    const onPath = exe('k6', 'echo "k6 v0.48.0 (go1.19.8, linux/amd64)"');
    expect(resolveK6Path(undefined, { PATH: `/nonexistent:${dir}` })).toEqual({ path: onPath, tried: 'k6 on PATH' });
    expect(resolveK6Path(undefined, { PATH: '/nonexistent' })).toEqual({ path: null, tried: 'k6 on PATH' });
    expect(resolveK6Path(undefined, { PATH: '', K6_BIN: onPath })).toEqual({ path: onPath, tried: `K6_BIN ${onPath}` });
    expect(resolveK6Path('/nonexistent/k6', { PATH: dir, K6_BIN: onPath })).toEqual({ path: null, tried: '--k6 /nonexistent/k6' });
  });

  it('throws WSB_K6_NOT_FOUND, exit 2, with how to install k6, when there is none', async () => {
    const err = await locateK6('/nonexistent/k6', { PATH: '' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WSB_K6_NOT_FOUND', exitCode: 2, message: 'k6 not found (--k6 /nonexistent/k6: no such executable file)' });
    expect((err as { hint: string }).hint).toMatch(/github\.com\/grafana\/k6\/releases/);
    expect((err as { hint: string }).hint).toMatch(/--driver docker/);
    await expect(locateK6(undefined, { PATH: '/nonexistent' })).rejects.toMatchObject({ code: 'WSB_K6_NOT_FOUND', message: 'k6 not found (k6 on PATH: no such executable file)' });
  });

  it('throws WSB_K6_NOT_FOUND for an executable that is not k6 (a stub here)', async () => {
    const notK6 = exe('not-k6', 'echo "hello"');
    await expect(locateK6(notK6, {})).rejects.toMatchObject({ code: 'WSB_K6_NOT_FOUND', message: expect.stringContaining('is not k6') });
    const broken = exe('broken-k6', 'exit 3');
    await expect(locateK6(broken, {})).rejects.toMatchObject({ code: 'WSB_K6_NOT_FOUND', message: expect.stringContaining('is not a working k6') });
  });

  it('reads the version of what it found (a stub printing k6 v0.48.0’s version line)', async () => {
    const stub = exe('k6-stub', 'echo "k6 v0.48.0 (go1.19.8, linux/amd64)"');
    await expect(locateK6(stub, {})).resolves.toEqual({ path: stub, version: { major: 0, minor: 48, patch: 0, raw: 'k6 v0.48.0 (go1.19.8, linux/amd64)' } });
  });
});
