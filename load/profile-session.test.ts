import { afterEach, describe, expect, it } from 'vitest';
import { ClientCore } from './client-core.js';
import { classifyEvent, FrameTap, nodeFromUpstream } from './profile-session.js';
import type { ProtocolClient } from './protocol-client.js';

const withUpstream = (upstream: string | null) => ({ upstream }) as unknown as ProtocolClient;

describe('nodeFromUpstream', () => {
  const ports = { '4001': 'node-1', '4002': 'node-2' };
  it('maps the answering upstream to its node by port; unknown is null, never guessed', () => {
    expect(nodeFromUpstream(withUpstream('127.0.0.1:4002'), ports)).toBe('node-2');
    // NGINX lists every upstream it tried: the last one answered.
    expect(nodeFromUpstream(withUpstream('127.0.0.1:4001, 127.0.0.1:4002'), ports)).toBe('node-2');
    expect(nodeFromUpstream(withUpstream('127.0.0.1:4999'), ports)).toBeNull();
    expect(nodeFromUpstream(withUpstream(null), ports)).toBeNull();
    expect(nodeFromUpstream(withUpstream('127.0.0.1:4001'), {})).toBeNull();
  });
});

describe('FrameTap', () => {
  afterEach(() => {
    ClientCore.frameTap = null;
  });

  it('keeps the next n frames each time it is armed, truncated, then switches the tap off', () => {
    const tap = new FrameTap(2);
    tap.arm();
    ClientCore.frameTap!('0{"sid":"a"}');
    ClientCore.frameTap!('x'.repeat(300));
    expect(ClientCore.frameTap).toBeNull();
    expect(tap.fresh()).toEqual(['0{"sid":"a"}', `${'x'.repeat(200)}…`]);
    expect(tap.fresh()).toBeUndefined();
    tap.arm();
    ClientCore.frameTap!('42["room_message",{}]');
    expect(tap.fresh()).toEqual(['42["room_message",{}]']);
    expect(tap.all()).toHaveLength(3);
  });
});

describe('classifyEvent', () => {
  // A profile whose join reply rule is loose enough to match a welcome frame too.
  const P = {
    isMessage: (_e: string, d: unknown) => (d as { type?: string }).type === 'msg',
    welcome: { is: (_e: string, d: unknown) => (d as { type?: string }).type === 'welcome', nodeId: (d: unknown) => (d as { nodeId?: string }).nodeId },
    join: { isReply: (d: unknown) => (d as { ok?: boolean }).ok === true },
  };
  it('a welcome-shaped frame is a welcome every time, never a join reply; a reply only while a join waits', () => {
    const welcome = { type: 'welcome', nodeId: 'node-2', ok: true };
    expect(classifyEvent(P, '', welcome, false)).toBe('welcome');
    // A later welcome while a join waits: still a welcome.
    expect(classifyEvent(P, '', welcome, true)).toBe('welcome');
    expect(classifyEvent(P, '', { type: 'joined', ok: true }, true)).toBe('join-reply');
    expect(classifyEvent(P, '', { type: 'joined', ok: true }, false)).toBe('other');
    expect(classifyEvent(P, '', { type: 'msg', ok: true }, true)).toBe('message');
    expect(classifyEvent({ ...P, welcome: null }, '', welcome, true)).toBe('join-reply');
  });
});
