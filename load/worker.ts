/**
 * A load-generator worker process: holds a share of the client connections, publishes on a fixed
 * schedule, records every arrival (latency into HDR histograms, identity into the delivery
 * ledger), reconnects and rejoins as real clients do, and reports to the coordinator over IPC.
 * Started with child_process.fork.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { setClientTls } from '../common/tls.js';
import { nowUs } from '../common/clock.js';
import { connectClient, ClientConnectError, type ProtocolClient } from './protocol-client.js';
import { compileProfile, type CompiledProfile } from './profile.js';
import { classifyEvent, FrameTap, joinWithProfile, nodeFromUpstream, ProfileError } from './profile-session.js';
import { holdConnections } from './hold.js';
import type { ReconnectObject } from '../config/protocol.js';
import { ArrivalRecorder, type Payload } from './arrival-recorder.js';
import { internalized } from '../common/intern.js';
import { measureClockOffset, writeReceiveLog, type ClockOffset } from '../calibrate/receive-log.js';
import { startSelfMonitor } from './self-monitor.js';
import { encodeHistogram } from '../model/histogram.js';
import { nextDelayMs, reconnectSpecFor } from './reconnect-policy.js';
import type { ConnectResult, Disconnection, FromWorker, PublisherReport, ToWorker, WorkerResults } from './ipc.js';
import { collectResults } from './worker-collect.js';
import type { ClientState } from './worker-client-state.js';
import { memoryAfterGc, memoryDiagnostics } from './worker-memory.js';

let workerId = -1;
let url = '';
/** The protocol profile, compiled once (load/profile.ts): the worker speaks nothing else. */
let P: CompiledProfile;
/** The load balancer's upstream port → node id (node identity from `X-Wsbench-Upstream`). */
let nodePorts: Record<string, string> = {};
/** The profile's own reconnect behaviour (wins over the scenario's policy). */
let profileReconnect: ReconnectObject | null = null;
let connectRate = 1000;
let connectTimeoutMs = 10_000;
let reconnectPolicy: ReconnectObject = reconnectSpecFor(undefined);
/** Socket.IO connection state recovery (`--adapter redis-streams`): resume sessions on reconnect. */
let recover = false;
let shuttingDown = false;
/** The profile is a reference one: a missing welcome is a timeout, as it always was, not a mismatch. */
let reference = true;
const clients = new Map<number, ClientState>();
/** The receive path: ledger, latency histograms, slow arrivals (load/arrival-recorder.ts). */
const rec = new ArrivalRecorder();
const ledger = rec.ledger;
let sentThisSecond = 0;
/** Set when the publish schedule ended (its deadline): nothing queued goes out after it. */
let publishingClosed = false;
let disconnects = 0;
const disconnections: Disconnection[] = [];
/** Per-second self-monitoring samples; only those of the measured window judge the generator. */
const healthSeries: Array<{ atUs: number; cpu: number; lag: number }> = [];
let tickTimer: NodeJS.Timeout | undefined;
const publishers = new Map<number, PublisherReport & { state: ClientState; queue: Array<{ seq: number; t: number }>; text: (s: Payload & { pad?: string }) => string }>();

/** The first frames this worker received (for WSB_PROTOCOL_MISMATCH). */
const frames = new FrameTap();

function send(msg: FromWorker): void {
  process.send?.(msg);
}

/** Clients connected now; with `gaveUp`, those that stopped reconnecting instead (they will not be back). */
function connectedCount(gaveUp = false): number {
  let n = 0;
  for (const c of clients.values()) if (gaveUp ? c.gaveUp && !c.client : c.client?.connected) n++;
  return n;
}

/** A room message arrived at `state` (the profile said so): its stamp to the recorder. */
function onMessage(state: ClientState, data: unknown, replayed: boolean): void {
  const stamp = P.stamp(data);
  if (stamp === undefined) return;
  if (replayed) rec.onReplayed(state, { payload: stamp });
  else rec.onStamp(state, P.room === null ? undefined : (P.room(data) as string | null | undefined), stamp);
}

/** Joins `room` as the profile says; resolves with null on success, else why not. */
function joinRoom(state: ClientState, client: ProtocolClient, room: string): Promise<string | null> {
  return joinWithProfile(P, state, client, room, connectTimeoutMs);
}

/** Holds the connections for `durationMs`, each client pinging (with ack) every `pingIntervalMs` (reference profiles only). */
function hold(durationMs: number, pingIntervalMs: number) {
  return holdConnections([...clients.values()], durationMs, reference ? pingIntervalMs : null, connectTimeoutMs);
}

/**
 * Dials, authenticates (the profile's credentials) and learns the node: from the profile's
 * welcome, else from the load balancer's upstream header, else unknown (null). With recovery on,
 * it asks to resume the client's last session; the events a resumed session gets replayed come
 * first (the client counts them, `client.replayed`) and go to the recorder as replayed.
 */
async function dial(state: ClientState): Promise<{ client: ProtocolClient; nodeId: string | null }> {
  const creds = P.credentials(state.id, `client-${state.id}`, state.room === null ? null : [state.room]);
  state.welcomed = null;
  const welcome = P.welcome === null ? null : new Promise<{ nodeId: string | null }>((resolve) => (state.welcomed = resolve));
  let client: ProtocolClient;
  try {
    client = await connectClient(P.wire === 'socketio' ? 'socketio' : 'ws', {
      url,
      path: P.path,
      // '' (a cluster off loopback): the default route's address.
      localAddress: state.localAddress || undefined,
      connectTimeoutMs,
      fullArgs: true,
      rawFrames: true,
      ...(creds.auth ? { auth: creds.auth } : {}),
      ...(creds.query ? { query: creds.query } : {}),
      ...(creds.headers ? { headers: creds.headers } : {}),
      ...(recover ? { recover: state.session ?? true } : {}),
    });
  } catch (err) {
    // A failed connect leaves no pending welcome on the state (it may never be dialled again).
    state.welcomed = null;
    throw err;
  }
  if (creds.firstFrame !== undefined) client.sendRaw(creds.firstFrame);
  state.replayLeft = client.replayed ?? 0;
  // Handlers shared by every connection, reaching the state through the client (no closure each).
  client.owner = state;
  client.onEvent = onClientEvent;
  client.onClose = onClientClose;
  if (welcome === null) return { client, nodeId: nodeFromUpstream(client, nodePorts) };
  // The welcome follows the connect at once; the bound is a plain timer cleared on arrival, so
  // thousands of connecting clients do not each keep a pending timer alive for the whole timeout.
  let timer: NodeJS.Timeout | undefined;
  const w = await Promise.race([welcome, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), connectTimeoutMs)))]);
  clearTimeout(timer);
  state.welcomed = null;
  if (w === null) {
    client.close();
    if (!reference) throw new ProfileError(`no welcome matching the profile within ${connectTimeoutMs} ms`);
    throw new ClientConnectError('timeout', `no welcome within ${connectTimeoutMs} ms`);
  }
  return { client, nodeId: w.nodeId ?? nodeFromUpstream(client, nodePorts) };
}

/** Every client's onEvent (`this` is the client; its owner the worker's state of it). */
function onClientEvent(this: ProtocolClient, event: string, data: unknown): void {
  const state = this.owner as ClientState;
  if (state.replayLeft > 0) {
    state.replayLeft--;
    if (P.isMessage(event, data)) onMessage(state, data, true);
    return;
  }
  const kind = classifyEvent(P, event, data, state.joinWait !== null);
  if (kind === 'message') onMessage(state, data, false);
  else if (kind === 'join-reply') state.joinWait!(data);
  else if (kind === 'welcome' && state.welcomed !== null) {
    // A welcome without a node id where the profile says: the node comes from the header, or is
    // unknown. Dropped once called; later welcomes are still consumed here, never taken for a join's reply.
    const id = P.welcome!.nodeId(data);
    const w = state.welcomed;
    state.welcomed = null;
    w({ nodeId: typeof id === 'string' || typeof id === 'number' ? String(id) : null });
  }
}

/** Every client's onClose (`this` is the client). */
function onClientClose(this: ProtocolClient, code: number, reason: string): void {
  onClosed(this.owner as ClientState, this, code, reason);
}

async function connectOne(state: ClientState): Promise<ConnectResult> {
  const t0 = nowUs();
  try {
    const { client, nodeId } = await dial(state);
    state.client = client;
    state.nodeId = nodeId;
    return { id: state.id, nodeId, connectUs: nowUs() - t0 };
  } catch (e) {
    const cause = e instanceof ProfileError ? 'protocol' : e instanceof ClientConnectError ? e.cause : 'error';
    return { id: state.id, nodeId: null, connectUs: nowUs() - t0, error: String(cause), errorMessage: e instanceof Error ? e.message : String(e) };
  }
}

function onClosed(state: ClientState, client: ProtocolClient, code: number, reason: string): void {
  if (state.client !== client) return; // an older connection of this client
  disconnects++;
  state.client = null;
  if (recover) state.session = client.session?.() ?? null;
  if (state.closing || shuttingDown) return;
  // A client that stops on a server-initiated disconnect (socket.io-client after `io server
  // disconnect`; seed 004's client after a close with code 1000) never comes back: its span stays
  // open, so what it misses is lost while disconnected.
  const serverEnded = reconnectPolicy.stopOnServerDisconnect === true && (P.wire === 'socketio' ? reason === 'io server disconnect' : code === 1000);
  const rec: Disconnection = {
    id: state.id,
    role: state.role,
    downUs: nowUs(),
    upUs: null,
    attempts: 0,
    failedAttempts: 0,
    code,
    reason,
    nodeBefore: state.nodeId,
    nodeAfter: null,
    recovered: false,
    replayed: 0,
  };
  disconnections.push(rec);
  state.current = rec;
  state.down.push([rec.downUs, null]);
  if (serverEnded) state.gaveUp = true;
  else void reconnect(state, rec);
}

async function reconnect(state: ClientState, rec: Disconnection): Promise<void> {
  for (;;) {
    const delay = nextDelayMs(reconnectPolicy, rec.attempts);
    if (!Number.isFinite(delay)) return void (state.gaveUp = true);
    await sleep(delay);
    if (shuttingDown || state.closing) return;
    rec.attempts++;
    try {
      const { client, nodeId } = await dial(state);
      state.client = client;
      state.nodeId = nodeId;
      rec.recovered = client.recovered ?? false;
      rec.replayed = client.replayed ?? 0;
      // A resumed session is back in its rooms (the server restored them): no rejoin. Were a room
      // not restored, its messages would be missing while connected — lostConnected, a failure.
      if ((state.role === 'member' || (state.role === 'publisher' && P.publisherJoins)) && state.room !== null && !rec.recovered) {
        const why = await joinRoom(state, client, state.room);
        if (why !== null) throw new Error(`rejoin failed: ${why}`);
      }
      rec.upUs = nowUs();
      rec.nodeAfter = nodeId;
      state.down[state.down.length - 1][1] = rec.upUs;
      state.current = null;
      flushQueue(state);
      return;
    } catch {
      rec.failedAttempts++;
      if (state.client) {
        const c = state.client;
        state.client = null;
        c.close();
      }
    }
  }
}

async function connectAll(): Promise<ConnectResult[]> {
  const list = [...clients.values()];
  const spacingMs = 1000 / Math.max(1, connectRate);
  const start = Date.now();
  const pending: Array<Promise<ConnectResult>> = [];
  for (let i = 0; i < list.length; i++) {
    const wait = start + i * spacingMs - Date.now();
    if (wait >= 1) await sleep(wait);
    pending.push(connectOne(list[i]));
  }
  return Promise.all(pending);
}

async function joinAll(assignments: Array<{ id: number; room: string; role: 'member' | 'publisher' }>) {
  const failures: Array<{ id: number; room: string; error: string }> = [];
  await Promise.all(
    assignments.map(async (a) => {
      const state = clients.get(a.id);
      if (!state) return;
      state.room = internalized(a.room); // compared with every arrival's room (Receiver.room)
      state.role = a.role;
      state.joinNode = state.nodeId;
      if (a.role !== 'member' && !(a.role === 'publisher' && P.publisherJoins)) return;
      if (!state.client?.connected) {
        failures.push({ id: a.id, room: a.room, error: 'not_connected' });
        return;
      }
      try {
        const why = await joinRoom(state, state.client, a.room);
        if (why !== null) failures.push({ id: a.id, room: a.room, error: why });
      } catch (e) {
        failures.push({ id: a.id, room: a.room, error: e instanceof Error ? e.message : String(e) });
      }
    }),
  );
  return failures;
}

let padding: string | undefined;

function emitPublish(pub: PublisherReport & { state: ClientState; text: (s: Payload & { pad?: string }) => string }, seq: number, t: number, queued: boolean): boolean {
  const client = pub.state.client;
  if (client === null || !client.connected) return false;
  const payload: Payload & { pad?: string } = { pub: pub.pub, seq, t: Math.round(t), n: pub.state.nodeId ?? 'unknown' };
  if (queued) payload.q = 1;
  if (padding) payload.pad = padding;
  return client.sendRaw(pub.text(payload));
}

/** Seed 000's messageQueue / 004's queueMessage: what waited while disconnected goes out now. */
function flushQueue(state: ClientState): void {
  if (state.role !== 'publisher' || publishingClosed) return;
  for (const p of publishers.values()) {
    if (p.state !== state) continue;
    while (p.queue.length > 0 && state.client?.connected) {
      const m = p.queue.shift()!;
      if (!emitPublish(p, m.seq, m.t, true)) {
        p.queue.unshift(m);
        break;
      }
      p.queued++;
      p.sent = m.seq + 1;
      sentThisSecond++;
    }
  }
}

/** Calibration: when the pump ran again after the publisher stall (CLOCK_MONOTONIC µs). */
let stallResumedUs: number | undefined;

function publish(msg: Extract<ToWorker, { type: 'publish' }>): Promise<number> {
  rec.measureFromUs = msg.measureFromUs;
  const intervalUs = 1e6 / msg.rate;
  padding = msg.payloadBytes > 0 ? 'x'.repeat(msg.payloadBytes) : undefined;
  let lateSends = 0;
  const pubs = msg.publishers.map((p) => {
    const state = clients.get(p.id)!;
    const t0Us = msg.startUs + p.phase * intervalUs;
    // The schedule: seqs whose intended time lies before endUs, counted with the pump's own arithmetic.
    let scheduled = 0;
    for (let t = t0Us; t < msg.endUs; t += intervalUs) scheduled++;
    const rec = { pub: p.pub, room: p.room, nodeId: state.nodeId ?? 'unknown', sent: 0, scheduled, overrun: 0, t0Us, intervalUs, down: state.down, queued: 0, unflushed: 0, state, queue: [] as Array<{ seq: number; t: number }>, text: P.publisher(p.room) };
    if (P.echo) state.echoPub = p.pub;
    if (P.publisherJoins) state.joinedPub = p.pub;
    publishers.set(p.pub, rec);
    return { rec, seq: 0, nextT: t0Us };
  });
  return new Promise<number>((resolve) => {
    const pump = () => {
      const now = nowUs();
      if (now >= msg.deadlineUs) {
        // The run is over: what has not left the publisher by now never will (`never sent`).
        resolve(lateSends);
        return;
      }
      if (msg.stall !== undefined && now >= msg.stall.startUs && now < msg.stall.endUs) {
        // Calibration (`--publisher-stall-ms`): the pump holds, without blocking anything else;
        // what falls due meanwhile goes out at the end of the stall with its intended time (or
        // never, when the stall outlasts the run).
        setTimeout(pump, (Math.min(msg.stall.endUs, msg.deadlineUs) - now) / 1000);
        return;
      }
      // How long the stall really held the pump: it ends when the pump runs again, timer lateness included.
      if (msg.stall !== undefined && stallResumedUs === undefined && now >= msg.stall.endUs) stallResumedUs = now;
      let next = Number.POSITIVE_INFINITY;
      for (const p of pubs) {
        // Every message due by now goes out with its *intended* time: a stalled publisher shows
        // up as latency at the receivers instead of as fewer samples (no coordinated omission).
        while (p.nextT <= now && p.nextT < msg.endUs) {
          const seq = p.seq++;
          if (p.rec.queue.length === 0 && emitPublish(p.rec, seq, p.nextT, false)) {
            p.rec.sent = seq + 1;
            sentThisSecond++;
            if (now - p.nextT > 10_000) lateSends++;
            if (now >= msg.runEndUs) p.rec.overrun++;
          } else {
            p.rec.queue.push({ seq, t: p.nextT });
          }
          p.nextT += intervalUs;
        }
        if (p.nextT < msg.endUs) next = Math.min(next, p.nextT);
      }
      if (next === Number.POSITIVE_INFINITY) resolve(lateSends);
      else setTimeout(pump, Math.max(0, (next - nowUs()) / 1000));
    };
    if (pubs.length === 0) resolve(0);
    else setTimeout(pump, Math.max(0, (Math.min(...pubs.map((p) => p.nextT)) - nowUs()) / 1000));
  }).finally(() => {
    publishingClosed = true;
  });
}

function startTicks(): void {
  tickTimer = startSelfMonitor(({ cpuPercent, lagP99Ms }) => {
    healthSeries.push({ atUs: nowUs(), cpu: cpuPercent, lag: lagP99Ms });
    const fresh = frames.fresh();
    send({ type: 'tick', workerId, atUs: nowUs(), sent: sentThisSecond, ...rec.takeSecond(), strays: rec.strays, connections: connectedCount(), gaveUp: connectedCount(true), cpuPercent, lagP99Ms, ...(fresh ? { frames: fresh } : {}) });
    sentThisSecond = 0;
  });
}

function collect(msg: Extract<ToWorker, { type: 'collect' }>): WorkerResults {
  // With `receive.echo`, each publisher also receives its own stream.
  const echoes = P.echo || P.publisherJoins ? [...publishers.values()].map((p) => ({ pub: p.pub, state: p.state })) : [];
  return collectResults({ msg, workerId, clients: [...clients.values()], echoes, echo: P.echo, publisherJoins: P.publisherJoins, rec, healthSeries, disconnections, disconnects });
}

/** Calibration (`--receive-log`): the sampled arrivals, their receivers' source addresses, the clocks. */
let receiveLog: { path: string; every: number; clockStart: ClockOffset } | undefined;

function writeSamples(): void {
  if (receiveLog === undefined) return;
  const receivers: Record<string, [string, string | null]> = {};
  for (const c of clients.values()) receivers[c.id] = [c.localAddress, c.nodeId];
  writeReceiveLog(receiveLog.path, { worker: workerId, every: receiveLog.every, clock: { start: receiveLog.clockStart, end: measureClockOffset() }, receivers, samples: rec.samples });
}

function closeAll(): void {
  shuttingDown = true;
  if (tickTimer) clearInterval(tickTimer);
  for (const c of clients.values()) {
    c.closing = true;
    c.client?.close();
  }
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init':
      workerId = msg.workerId;
      url = msg.url;
      P = compileProfile(msg.profile, msg.jwtSecret);
      reference = msg.reference;
      nodePorts = msg.nodePorts ?? {};
      profileReconnect = msg.profile.reconnect === undefined ? null : reconnectSpecFor(msg.profile.reconnect);
      frames.arm();
      connectRate = msg.connectRate;
      connectTimeoutMs = msg.connectTimeoutMs;
      reconnectPolicy = profileReconnect ?? reconnectSpecFor(msg.reconnect);
      recover = msg.recover === true && P.wire === 'socketio';
      setClientTls(msg.tls);
      rec.receiveCostUs = msg.receiveCostUs;
      if (msg.receiveLog !== undefined) {
        receiveLog = { ...msg.receiveLog, clockStart: measureClockOffset() };
        rec.sampleEvery = msg.receiveLog.every;
      }
      for (const c of msg.clients) {
        // The recorder's fields in the literal: kept in the object itself (Receiver.stream).
        clients.set(c.id, { id: c.id, localAddress: c.localAddress, client: null, nodeId: null, joinNode: null, room: null, role: null, down: [], current: null, closing: false, session: null, welcomed: null, replayLeft: 0, joinWait: null, stream: undefined, streamPub: -1, rxNode: -1, rxNodeOf: undefined });
      }
      startTicks();
      send({ type: 'ready', workerId });
      return;
    case 'connect':
      send({ type: 'connected', workerId, results: await connectAll(), frames: frames.all() });
      return;
    case 'join':
      send({ type: 'joined', workerId, failures: await joinAll(msg.assignments), frames: frames.all() });
      return;
    case 'set-reconnect':
      // A profile's own reconnect behaviour is what its clients do, whatever the scenario's timeline asks.
      reconnectPolicy = profileReconnect ?? reconnectSpecFor(msg.reconnect);
      send({ type: 'reconnect-set', workerId });
      return;
    case 'stats': {
      // After a forced GC, once RSS settled, so it reflects live memory (load/worker-memory.ts).
      const m = await memoryAfterGc();
      memoryDiagnostics(workerId, m);
      send({ type: 'stats', workerId, rssBytes: m.rss, heapUsedBytes: m.heapUsed, connected: connectedCount() });
      return;
    }
    case 'hold':
      send({ type: 'held', workerId, ...(await hold(msg.durationMs, msg.pingIntervalMs)), connectedAtEnd: connectedCount(), disconnects });
      return;
    case 'disconnections':
      send({ type: 'disconnections', workerId, list: disconnections });
      return;
    case 'publish': {
      // The first frames once publishing began, too: the room messages a receive rule should match.
      frames.arm();
      const lateSends = await publish(msg);
      const reports: PublisherReport[] = [...publishers.values()].map(({ state: _s, queue, text: _t, ...r }) => ({ ...r, unflushed: queue.length }));
      send({ type: 'published', workerId, publishers: reports, lateSends, ...(stallResumedUs === undefined ? {} : { stallResumedUs }) });
      return;
    }
    case 'collect':
      writeSamples();
      send(collect(msg));
      return;
    case 'close':
      closeAll();
      // Let the close frames leave before the process goes.
      setTimeout(() => process.exit(0), 200).unref();
      process.disconnect?.();
      return;
  }
}

process.on('message', (msg: ToWorker) => {
  handle(msg).catch((e: unknown) => {
    send({ type: 'error', workerId, message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  });
});
// The coordinator is gone (crash, kill -9): never outlive it.
process.on('disconnect', () => {
  closeAll();
  setTimeout(() => process.exit(0), 200).unref();
});
