/**
 * The security probes in the reference protocol (reference-server/): each judged by the exact
 * answer a reference node gives — `connect_error "unauthorized: …"` / HTTP 401, HTTP 400 / 403 for
 * a foreign Origin, close 1009, `rate_limited` acks, `forbidden` acks, the node's slow_consumer
 * counter. A server spoken to through another protocol profile gets profile-probes.ts instead.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintToken } from '../load/token.js';
import { badTokens } from '../load/probe-tokens.js';
import { describeOutcome, probeConnect, type HandshakeOutcome, type ProbeClient } from '../load/probe-client.js';
import type { ProbeResult } from '../model/run-report.js';
import { MiB, ProbeError, checkAbort, fmtBytes, isObj, nodeFigures, nodeUrl, probe, type ProbeEnv } from './probe-harness.js';

async function connect(env: ProbeEnv, rooms: string[], extra: { token?: string | null; origin?: string } = {}): Promise<HandshakeOutcome> {
  const token = extra.token === null ? undefined : (extra.token ?? mintToken(env.secret, `probe-${randomBytes(3).toString('hex')}`, rooms));
  const r = await probeConnect({ url: env.url, protocol: env.protocol, token, origin: extra.origin, timeoutMs: env.o.probeTimeout });
  if (r.kind === 'connected') env.open.add(r.client);
  return r;
}

/** A valid connection a probe builds on; throws a probe error when even that is refused. */
async function mustConnect(env: ProbeEnv, rooms: string[]): Promise<ProbeClient> {
  const r = await connect(env, rooms);
  if (r.kind !== 'connected') throw new ProbeError(`a valid connection was refused: ${describeOutcome(r)}`);
  return r.client;
}

function authProbes(env: ProbeEnv): Array<() => Promise<ProbeResult>> {
  const sio = env.protocol === 'socketio';
  const expected = sio ? 'refused at the handshake: connect_error "unauthorized: …"' : 'upgrade refused with HTTP 401';
  return badTokens(env.secret, 'probe-auth', ['*']).map((bad) => () =>
    probe('auth', bad.id, bad.description, expected, async () => {
      const r = await connect(env, ['*'], { token: bad.token ?? null });
      const observed = describeOutcome(r);
      if (r.kind === 'connected') return { status: 'fail', observed: `accepted: ${observed}` };
      const refused = sio ? r.kind === 'connect_error' && /^unauthorized/.test(r.message) : r.kind === 'http' && r.status === 401;
      return { status: refused ? 'pass' : 'error', observed };
    }),
  );
}

function originProbe(env: ProbeEnv): () => Promise<ProbeResult> {
  const sio = env.protocol === 'socketio';
  return () =>
    probe(
      'origin',
      'foreign-origin',
      `a valid token, from a browser page on ${env.o.foreignOrigin} (Origin header)`,
      `upgrade refused with HTTP ${sio ? '400 (engine.io allowRequest)' : '403'}`,
      async () => {
        // Control: the same handshake without an Origin header (a non-browser client) must pass.
        const control = await connect(env, ['*']);
        if (control.kind !== 'connected') throw new ProbeError(`the control handshake without Origin was refused: ${describeOutcome(control)}`);
        control.client.close();
        const r = await connect(env, ['*'], { origin: env.o.foreignOrigin });
        const observed = describeOutcome(r);
        if (r.kind === 'connected') return { status: 'fail', observed: `accepted: ${observed}` };
        return { status: r.kind === 'http' && r.status >= 400 && r.status < 500 ? 'pass' : 'error', observed };
      },
    );
}

function sizeProbe(env: ProbeEnv): () => Promise<ProbeResult> {
  const limit = env.limits.maxPayload;
  const size = limit + 1024;
  return () =>
    probe('size-limit', 'oversized-frame', `one publish frame of ${fmtBytes(size)} (limit ${fmtBytes(limit)})`, 'connection closed with 1009 (message too big), nothing published', async () => {
      const c = await mustConnect(env, ['probe-size']);
      const overhead = c.frame('publish', { room: 'probe-size', payload: '' }, 1).length;
      const payload = 'x'.repeat(size - overhead);
      const a = await c.sendWithAck((id) => c.frame('publish', { room: 'probe-size', payload }, id), env.o.probeTimeout);
      const closed = isObj(a) && typeof a.closed === 'number' ? a.closed : c.closeCode;
      // A fresh connection proves the node is still fine.
      const after = await connect(env, ['*']);
      const nodeOk = after.kind === 'connected' ? 'the node still accepts connections' : `then a new connection: ${describeOutcome(after)}`;
      const details = { frameBytes: size, maxPayloadBytes: limit, closeCode: closed ?? null };
      if (closed !== undefined) return { status: 'pass', observed: `connection closed with ${closed}; ${nodeOk}`, details };
      if (isObj(a) && a.ok === true) return { status: 'fail', observed: `accepted: the publish was acked ok; ${nodeOk}`, details };
      return { status: 'fail', observed: `neither refused nor closed (${JSON.stringify(a)}); ${nodeOk}`, details };
    });
}

function rateProbe(env: ProbeEnv): () => Promise<ProbeResult> {
  const limit = env.limits.rateLimit;
  const windowS = env.limits.rateWindowMs / 1000;
  const n = limit + Math.max(10, Math.ceil(limit * 0.2));
  return () =>
    probe('rate-limit', 'publish-flood', `${n} publishes as fast as the acks come (limit ${limit} per ${windowS} s)`, `at most ${limit} accepted, the rest refused with rate_limited`, async () => {
      if (n > 5000) throw new ProbeError(`the nodes allow ${limit} messages per window for this run (raised for the background load?); the probe floods at most 5000`);
      const c = await mustConnect(env, ['probe-rate']);
      let ok = 0;
      let limited = 0;
      let other = 0;
      for (let i = 0; i < n; i++) {
        const a = await c.emitWithAck('publish', { room: 'probe-rate', payload: i }, env.o.probeTimeout);
        if (isObj(a) && a.ok === true) ok++;
        else if (isObj(a) && a.error === 'rate_limited') limited++;
        else other++;
        if (isObj(a) && (a.closed !== undefined || a.timeout)) break;
      }
      const details = { sent: n, accepted: ok, rateLimited: limited, other, limit };
      const observed = `${ok} accepted, ${limited} refused rate_limited${other ? `, ${other} other answers` : ''}`;
      return { status: limited > 0 && ok <= limit ? 'pass' : 'fail', observed, details };
    });
}

function roomProbes(env: ProbeEnv): Array<() => Promise<ProbeResult>> {
  const granted = 'probe-granted';
  const forbidden = 'probe-forbidden';
  const one = (id: string, event: 'join' | 'publish', description: string) => () =>
    probe('room-auth', id, description, `${event} refused: forbidden`, async () => {
      const c = await mustConnect(env, [granted]);
      const control = await c.emitWithAck('join', { room: granted }, env.o.probeTimeout);
      if (!(isObj(control) && control.ok === true)) throw new ProbeError(`joining the granted room failed: ${JSON.stringify(control)}`);
      const a = await c.emitWithAck(event, event === 'join' ? { room: forbidden } : { room: forbidden, payload: 'probe' }, env.o.probeTimeout);
      const observed = `${event} answered ${JSON.stringify(a)}`;
      if (isObj(a) && a.ok === false && a.error === 'forbidden') return { status: 'pass', observed };
      return { status: isObj(a) && a.ok === true ? 'fail' : 'error', observed };
    });
  return [
    one('join-ungranted', 'join', `a token granting only "${granted}" joins "${forbidden}"`),
    one('publish-ungranted', 'publish', `a token granting only "${granted}" publishes to "${forbidden}"`),
  ];
}

function slowConsumerProbe(env: ProbeEnv): () => Promise<ProbeResult> {
  const limit = env.limits.maxBufferedBytes;
  const budget = env.o.slowConsumerMb * MiB;
  // Big messages (under the size limit) reach the budget in few publishes; the publishers are
  // rate limited like anyone, so a new one takes over when one is refused.
  const chunk = Math.max(1024, Math.min(MiB, env.limits.maxPayload - 1024));
  const messages = Math.ceil(budget / chunk);
  return () =>
    probe(
      'slow-consumer',
      'never-reads',
      `a member of a room stops reading its socket while ${messages} messages of ${fmtBytes(chunk)} (${fmtBytes(messages * chunk)}) are published to the room`,
      `the node drops the connection (or the messages) once more than ${fmtBytes(limit)} wait for it (--max-buffered-bytes): the client never gets everything, the node's memory stays bounded`,
      async () => {
        const room = `probe-slow-${randomBytes(3).toString('hex')}`;
        const slow = await mustConnect(env, [room]);
        const joined = await slow.emitWithAck('join', { room }, env.o.probeTimeout);
        if (!(isObj(joined) && joined.ok === true)) throw new ProbeError(`the slow consumer could not join: ${JSON.stringify(joined)}`);
        const url = nodeUrl(env, slow.nodeId);
        const before = await nodeFigures(url);
        slow.pause();
        const payload = 'x'.repeat(chunk);
        let pub = await mustConnect(env, [room]);
        let publishers = 1;
        let published = 0;
        let dropSeen = false;
        while (published < messages) {
          checkAbort(env.signal);
          const a = await pub.emitWithAck('publish', { room, payload }, Math.max(env.o.probeTimeout, 10_000));
          if (isObj(a) && a.ok === true) published++;
          else if (isObj(a) && a.error === 'rate_limited' && publishers < 50) {
            pub.close();
            pub = await mustConnect(env, [room]);
            publishers++;
            continue;
          } else throw new ProbeError(`publishing to the slow consumer's room failed after ${published} messages: ${JSON.stringify(a)}`);
          // Where the node's counter is readable, stop as soon as it dropped the consumer.
          if (before.slowDrops !== null && published % 4 === 0) {
            const now = await nodeFigures(url);
            if (now.slowDrops !== null && now.slowDrops > before.slowDrops) {
              dropSeen = true;
              break;
            }
          }
        }
        const peak = await nodeFigures(url);
        pub.close();
        // Read again: whatever the node kept for the client arrives now, then (if it dropped it) the close.
        slow.resume();
        let last = -1;
        let stalled = 0;
        while (slow.closeCode === undefined && (slow.events.get('msg') ?? 0) < published && stalled < 20) {
          checkAbort(env.signal);
          await sleep(100);
          if (slow.bytesReceived === last) stalled++;
          else stalled = 0;
          last = slow.bytesReceived;
        }
        const delivered = slow.events.get('msg') ?? 0;
        const after = await nodeFigures(url);
        const details = {
          node: slow.nodeId ?? null,
          maxBufferedBytes: limit,
          messagesPublished: published,
          bytesPublished: published * chunk,
          messagesDelivered: delivered,
          bytesReceived: slow.bytesReceived,
          closeCode: slow.closeCode ?? null,
          rssBeforeBytes: before.rss,
          rssPeakBytes: peak.rss,
          rssGrowthBytes: before.rss !== null && peak.rss !== null ? peak.rss - before.rss : null,
          nodeSlowConsumerDrops: after.slowDrops !== null && before.slowDrops !== null ? after.slowDrops - before.slowDrops : null,
        };
        const rss = details.rssGrowthBytes === null ? '' : `; node RSS ${details.rssGrowthBytes >= 0 ? '+' : ''}${fmtBytes(details.rssGrowthBytes)}`;
        const got = `${delivered} of ${published} messages (${fmtBytes(slow.bytesReceived)} of ${fmtBytes(published * chunk)})`;
        if (slow.closeCode !== undefined) {
          return { status: 'pass', observed: `dropped by the node${dropSeen ? ' (counted slow_consumer)' : ''}: closed with ${slow.closeCode} after delivering ${got}${rss}`, details };
        }
        if (delivered < published) return { status: 'pass', observed: `connection kept, messages dropped: delivered ${got}${rss}`, details };
        return { status: 'fail', observed: `the node queued everything for a client that did not read and delivered it when it read again: ${got}${rss}`, details };
      },
    );
}

/** Every reference probe, in the order they run. */
export function referenceProbes(env: ProbeEnv): Array<() => Promise<ProbeResult>> {
  return [...authProbes(env), originProbe(env), sizeProbe(env), rateProbe(env), ...roomProbes(env), slowConsumerProbe(env)];
}
