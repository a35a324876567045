/**
 * `wsbench run security-probes` against examples/seed-000 (seed 000's Socket.IO server as its
 * reader writes it) through the real bin and the example's own config: the probes speak the seed's
 * profile (bad tokens in `auth.token`, joins through `join_room` with its callback, floods through
 * `broadcast_room`, messages read as `room_message`). What the seed's code does per family
 * (examples/seed-000/websocket-scaling-server.js) is what the report must show:
 *   - auth: `jwt.verify(token, jwtSecret)` refuses a malformed, wrongly signed, unsigned or expired
 *     token (connect_error "Authentication failed"), but `authRequired` is never set, so a
 *     handshake with no token at all is let in and may join rooms; its tokens carry no `aud`, so the
 *     audience probe does not apply;
 *   - origin: `cors: { origin: '*' }` and no `allowRequest`: a foreign Origin is let in;
 *   - size-limit: `maxHttpBufferSize: 1 MB` closes the connection with 1009;
 *   - rate-limit: its limiter counts handshakes per IP, not messages: a flood all arrives;
 *   - room-auth: its tokens name no rooms (`join_room` lets anyone in anywhere): not expressible;
 *   - slow-consumer: Socket.IO buffers without bound for a client that does not read.
 */
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../model/run-report.js';
import { validateReport } from '../../model/schema.js';
import { runExample } from './support/examples.js';
import { describePids, newTag, waitNoRunProcesses } from './support/run-processes.js';

describe('examples/seed-000 through security-probes (the seed’s profile)', () => {
  it('each probe family shows what the seed’s code does: its gaps fail, a probe the profile cannot express is not applicable, never passed', async () => {
    const tag = newTag();
    const r = await runExample('seed-000', 'security-probes', [], { WSB_TEST_TAG: tag });
    const report = r.report as RunReport;
    expect(report, r.stderr).toBeDefined();
    expect(report.error, r.stderr).toBeUndefined();
    expect(validateReport(report)).toEqual([]);
    expect(describePids(await waitNoRunProcesses({ tag, dir: r.out }))).toEqual([]);
    // Targets missed: exit 1, not a harness failure.
    expect(r.code).toBe(1);
    expect(report.topology.server).toBe('custom');

    const results = report.probes!.results;
    const status = Object.fromEntries(results.map((x) => [x.id, x.status]));
    expect(status).toEqual({
      'auth/no-token': 'fail',
      'auth/malformed': 'pass',
      'auth/wrong-signature': 'pass',
      'auth/alg-none': 'pass',
      'auth/expired': 'pass',
      'auth/wrong-audience': 'not-applicable',
      'origin/foreign-origin': 'fail',
      'size-limit/oversized-frame': 'pass',
      'rate-limit/publish-flood': 'fail',
      'room-auth/join-ungranted': 'not-applicable',
      'room-auth/publish-ungranted': 'not-applicable',
      'slow-consumer/never-reads': 'fail',
    });
    const byId = (id: string) => results.find((x) => x.id === id)!;
    // The refusals are the seed's own words; the token without one joined a room.
    for (const id of ['auth/malformed', 'auth/wrong-signature', 'auth/alg-none', 'auth/expired']) expect(byId(id).observed).toBe('connect_error "Authentication failed"');
    expect(byId('auth/no-token').observed).toContain('join acked {"success":true}');
    expect(byId('auth/wrong-audience').observed).toContain('carry no aud');
    expect(byId('room-auth/join-ungranted').observed).toContain('{rooms} is not in auth.jwt.claims');
    expect(byId('size-limit/oversized-frame').details).toMatchObject({ closeCode: 1009, delivered: 0 });
    const flood = byId('rate-limit/publish-flood').details!;
    expect(flood.delivered).toBe(flood.sent);
    const slow = byId('slow-consumer/never-reads').details!;
    expect(slow.closeCode).toBeNull();
    expect(slow.messagesDelivered).toBe(slow.messagesToReader);

    expect(report.counters).toMatchObject({ probes_run: 12, probes_failed: 4, probes_not_applicable: 3, probes_failed_auth: 1, probes_failed_size_limit: 0, nodes_down_during_probes: 0 });
    // room-auth had no applicable probe: no counter, so its target is unknown (and fails the gate).
    expect(report.counters.probes_failed_room_auth).toBeUndefined();
    expect(Object.fromEntries(report.targets.filter((t) => t.id.startsWith('probe-')).map((t) => [t.id, t.status]))).toEqual({
      'probe-auth': 'fail',
      'probe-origin': 'fail',
      'probe-size-limit': 'pass',
      'probe-rate-limit': 'fail',
      'probe-room-auth': 'unknown',
      'probe-slow-consumer': 'fail',
      'probe-nodes-up': 'pass',
    });
    expect(report.probes!.nodesStayedUp).toBe(true);
    expect(r.stdout).toMatch(/security probes \([\d.]+ s\): 5 of 12 passed — failed: auth\/no-token, origin\/foreign-origin, rate-limit\/publish-flood, slow-consumer\/never-reads — not applicable: auth\/wrong-audience, room-auth\/join-ungranted, room-auth\/publish-ungranted/);
  });
});
