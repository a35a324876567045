import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../model/histogram.js';
import { holdConnections } from './hold.js';
import type { ProtocolClient } from './protocol-client.js';

/** A client that answers every `ping` (or never does, or is not connected), counting what it got. */
function fake(mode: 'answers' | 'silent' | 'down') {
  const got: string[] = [];
  const client = {
    connected: mode !== 'down',
    emitWithAck(event: string, _data: unknown, timeoutMs = 1000) {
      got.push(event);
      if (mode === 'answers') return Promise.resolve({});
      return new Promise((_, reject) => setTimeout(() => reject(new Error('ack timeout')), timeoutMs));
    },
  } as unknown as ProtocolClient;
  return { client, got };
}

describe('holdConnections', () => {
  it('pings client i at (i / n + k) × interval while before the end, one timer for all', async () => {
    const clients = [fake('answers'), fake('answers'), fake('answers'), fake('answers')];
    // 4 clients, every 100 ms, for 250 ms: at 0/100/200, 25/125/225, 50/150, 75/175.
    const r = await holdConnections(clients, 250, 100, 1000);
    expect(clients.map((c) => c.got.length)).toEqual([3, 3, 2, 2]);
    expect(clients[0].got[0]).toBe('ping');
    expect(r.pingsOk).toBe(10);
    expect(r.pingsFailed).toBe(0);
    expect(decodeHistogram(r.pingHdr).totalCount).toBe(10);
  });

  it('counts a disconnected client as a failed ping at each of its turns, and never pings again while an ack is awaited', async () => {
    const down = fake('down');
    const silent = fake('silent');
    const up = fake('answers');
    // 3 clients every 60 ms for 150 ms: turns at 0/60/120, 20/80/140, 40/100. The silent one's ack
    // times out after 500 ms, after the hold's end: it pinged once, and the hold waited for it.
    const r = await holdConnections([down, silent, up], 150, 60, 500);
    expect(down.got.length).toBe(0);
    expect(silent.got.length).toBe(1);
    expect(up.got.length).toBe(2);
    expect(r.pingsOk).toBe(2);
    expect(r.pingsFailed).toBe(3 + 1);
  });

  it('without a ping interval holds without pinging', async () => {
    const c = fake('answers');
    const r = await holdConnections([c], 20, null, 1000);
    expect(c.got.length).toBe(0);
    expect(r).toMatchObject({ pingsOk: 0, pingsFailed: 0 });
  });
});
