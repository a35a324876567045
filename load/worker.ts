/**
 * A load-generator worker process: holds a share of the client connections, publishes on a fixed
 * schedule, records every arrival (latency into HDR histograms, identity into the delivery
 * ledger), reconnects and rejoins as real clients do, and reports to the coordinator over IPC.
 * Started with child_process.fork.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { setClientTls } from '../common/tls.js';
import { nowUs } from '../common/clock.js';
import { connectClient, ClientConnectError, type ProtocolClient, type SioSession, type WireProtocol } from './protocol-client.js';
import { ArrivalRecorder, type Payload } from './arrival-recorder.js';
import { measureClockOffset, writeReceiveLog, type ClockOffset } from '../calibrate/receive-log.js';
import { startSelfMonitor } from './self-monitor.js';
import type { LedgerStream } from './delivery-ledger.js';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import { recordUs } from './histogram-record.js';
import { mintToken } from './token.js';
import { reconnectDelayMs, type ReconnectPolicy } from './reconnect-policy.js';
import type { ConnectResult, Disconnection, FromWorker, PublisherReport, Span, ToWorker, WorkerResults } from './ipc.js';
import { classifyLosses } from './loss-classes.js';

interface ClientState {
  id: number;
  localAddress: string;
  client: ProtocolClient | null;
  nodeId: string | null;
  /** Node at join time: same-node / cross-node accounting is by the original placement. */
  joinNode: string | null;
  room: string | null;
  role: 'member' | 'publisher' | null;
  /** Spans during which this client was disconnected (or not yet rejoined). */
  down: Span[];
  /** The open disconnection record, while reconnecting. */
  current: Disconnection | null;
  /** Set when we close it ourselves: no reconnection. */
  closing: boolean;
  /** Ledger streams by publisher (kept by the recorder). */
  streams?: Array<LedgerStream | undefined>;
  /** With connection state recovery: the session of the last connection, to resume on reconnect. */
  session: SioSession | null;
  /** The recorder's cached node index (load/arrival-recorder.ts). */
  rxNode?: number;
  rxNodeOf?: string | null;
}



let workerId = -1;
let url = '';
let protocol: WireProtocol = 'socketio';
let jwtSecret = '';
let connectRate = 1000;
let connectTimeoutMs = 10_000;
let reconnectPolicy: ReconnectPolicy = 'socketio';
/** Socket.IO connection state recovery (`--adapter redis-streams`): resume sessions on reconnect. */
let recover = false;
let shuttingDown = false;
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
const publishers = new Map<number, PublisherReport & { state: ClientState; queue: Array<{ seq: number; t: number }> }>();

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function connectedCount(): number {
  let n = 0;
  for (const c of clients.values()) if (c.client?.connected) n++;
  return n;
}

/**
 * Dials, authenticates and waits for `welcome`; resolves with the node id. With recovery on, it
 * asks to resume the client's last session; the events a resumed session gets replayed come first
 * (the client counts them, `client.replayed`) and go to the recorder as replayed.
 */
async function dial(state: ClientState): Promise<{ client: ProtocolClient; nodeId: string }> {
  const token = mintToken(jwtSecret, `client-${state.id}`);
  let welcomed: (nodeId: string) => void = () => undefined;
  const welcome = new Promise<string>((resolve) => (welcomed = resolve));
  const client = await connectClient(protocol, { url, token, localAddress: state.localAddress || undefined, connectTimeoutMs, ...(recover ? { recover: state.session ?? true } : {}) });
  let replayLeft = client.replayed ?? 0;
  client.onEvent = (event, data) => {
    if (replayLeft > 0) {
      replayLeft--;
      if (event === 'msg') rec.onReplayed(state, data);
      return;
    }
    if (event === 'msg') rec.onArrival(state, data);
    else if (event === 'welcome') welcomed((data as { nodeId: string }).nodeId);
  };
  client.onClose = (code, reason) => onClosed(state, client, code, reason);
  // `welcome` follows the CONNECT ack at once; the bound is a plain timer cleared on arrival, so
  // thousands of connecting clients do not each keep a pending timer alive for the whole timeout.
  let timer: NodeJS.Timeout | undefined;
  const nodeId = await Promise.race([welcome, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), connectTimeoutMs)))]);
  clearTimeout(timer);
  if (nodeId === null) {
    client.close();
    throw new ClientConnectError('timeout', `no welcome within ${connectTimeoutMs} ms`);
  }
  return { client, nodeId };
}

async function connectOne(state: ClientState): Promise<ConnectResult> {
  const t0 = nowUs();
  try {
    const { client, nodeId } = await dial(state);
    state.client = client;
    state.nodeId = nodeId;
    return { id: state.id, nodeId, connectUs: nowUs() - t0 };
  } catch (e) {
    const cause = e instanceof ClientConnectError ? e.cause : 'error';
    return { id: state.id, nodeId: null, connectUs: nowUs() - t0, error: String(cause), errorMessage: e instanceof Error ? e.message : String(e) };
  }
}

function onClosed(state: ClientState, client: ProtocolClient, code: number, reason: string): void {
  if (state.client !== client) return; // an older connection of this client
  disconnects++;
  state.client = null;
  if (recover) state.session = client.session?.() ?? null;
  if (state.closing || shuttingDown) return;
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
  void reconnect(state, rec);
}

async function reconnect(state: ClientState, rec: Disconnection): Promise<void> {
  for (;;) {
    const delay = reconnectDelayMs(reconnectPolicy, rec.attempts);
    if (!Number.isFinite(delay)) return;
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
      if (state.role === 'member' && state.room !== null && !rec.recovered) {
        const ack = (await client.emitWithAck('join', { room: state.room }, connectTimeoutMs)) as { ok?: boolean; error?: string };
        if (!ack?.ok) throw new Error(`rejoin refused: ${ack?.error ?? 'no ack'}`);
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
      state.room = a.room;
      state.role = a.role;
      state.joinNode = state.nodeId;
      if (a.role !== 'member') return;
      if (!state.client?.connected) {
        failures.push({ id: a.id, room: a.room, error: 'not_connected' });
        return;
      }
      try {
        const ack = (await state.client.emitWithAck('join', { room: a.room }, connectTimeoutMs)) as { ok?: boolean; error?: string };
        if (!ack?.ok) failures.push({ id: a.id, room: a.room, error: ack?.error ?? 'no_ack' });
      } catch (e) {
        failures.push({ id: a.id, room: a.room, error: e instanceof Error ? e.message : String(e) });
      }
    }),
  );
  return failures;
}

let padding: string | undefined;

function emitPublish(pub: PublisherReport & { state: ClientState }, seq: number, t: number, queued: boolean): boolean {
  const payload: Payload & { pad?: string } = { pub: pub.pub, seq, t: Math.round(t), n: pub.state.nodeId ?? 'unknown' };
  if (queued) payload.q = 1;
  if (padding) payload.pad = padding;
  return pub.state.client?.emit('publish', { room: pub.room, payload }) ?? false;
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
    const rec = { pub: p.pub, room: p.room, nodeId: state.nodeId ?? 'unknown', sent: 0, scheduled, overrun: 0, t0Us, intervalUs, down: state.down, queued: 0, unflushed: 0, state, queue: [] as Array<{ seq: number; t: number }> };
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

/** Holds the connections for `durationMs`, each client pinging (with ack) every `pingIntervalMs`, staggered. */
async function hold(durationMs: number, pingIntervalMs: number): Promise<{ pingsOk: number; pingsFailed: number; pingHdr: string }> {
  const rtt = createLatencyHistogram();
  let ok = 0;
  let failed = 0;
  const end = Date.now() + durationMs;
  const list = [...clients.values()];
  await Promise.all(
    list.map(async (c, i) => {
      await sleep((i / list.length) * pingIntervalMs);
      while (Date.now() < end) {
        const client = c.client;
        if (client?.connected) {
          const t0 = nowUs();
          try {
            await client.emitWithAck('ping', { t: t0 }, connectTimeoutMs);
            recordUs(rtt, nowUs() - t0);
            ok++;
          } catch {
            failed++;
          }
        } else failed++;
        const left = end - Date.now();
        if (left <= 0) break;
        await sleep(Math.min(pingIntervalMs, left));
      }
    }),
  );
  return { pingsOk: ok, pingsFailed: failed, pingHdr: encodeHistogram(rtt) };
}

function startTicks(): void {
  tickTimer = startSelfMonitor(({ cpuPercent, lagP99Ms }) => {
    healthSeries.push({ atUs: nowUs(), cpu: cpuPercent, lag: lagP99Ms });
    send({ type: 'tick', workerId, atUs: nowUs(), sent: sentThisSecond, ...rec.takeSecond(), strays: rec.strays, connections: connectedCount(), cpuPercent, lagP99Ms });
    sentThisSecond = 0;
  });
}

function collect(msg: Extract<ToWorker, { type: 'collect' }>): WorkerResults {
  const byRoom = new Map<string, typeof msg.publishers>();
  for (const p of msg.publishers) {
    const l = byRoom.get(p.room) ?? [];
    l.push(p);
    byRoom.set(p.room, l);
  }
  const members = [...clients.values()].filter((c) => c.role === 'member' && c.room !== null);
  const expectations = function* (fromUs = Number.NEGATIVE_INFINITY, toUs = Number.POSITIVE_INFINITY) {
    for (const c of members) {
      for (const p of byRoom.get(c.room!) ?? []) {
        // Seqs whose intended time lies in [fromUs, toUs).
        const from = Number.isFinite(fromUs) ? Math.max(0, Math.ceil((fromUs - p.t0Us) / p.intervalUs)) : 0;
        // Expected from the schedule, not from what the publisher got out: what never left it is lost (never sent).
        const to = Number.isFinite(toUs) ? Math.min(p.scheduled, Math.max(0, Math.ceil((toUs - p.t0Us) / p.intervalUs))) : p.scheduled;
        yield { receiver: c.id, pub: p.pub, from, sent: Math.max(from, to), cross: p.nodeId !== c.joinNode };
      }
    }
  };
  const accounting = ledger.account(expectations());

  // Classify every lost delivery, and attribute every expected one to its nodes (load/loss-classes.ts).
  const { losses, samples, tally, windowTally } = classifyLosses({ members, byRoom, ledger, slowArrivals: rec.slowArrivals, req: msg, openEnd: nowUs() });

  const windows = msg.windows.map((w, i) => {
    const acc = ledger.account(expectations(w.startUs, w.endUs));
    return { name: w.name, accounting: acc.total, sameNode: acc.sameNode, crossNode: acc.crossNode, perNode: { rx: windowTally[i].rx, px: windowTally[i].px } };
  });
  rec.closeCpuWindow();
  const measured = healthSeries.filter((h) => h.atUs > rec.measureFromUs + 1e6);
  // Burst: how many deliveries one broadcast lands on this worker (its members of the room),
  // averaged over the rooms that have a publisher.
  const roomMembers = new Map<string, number>();
  for (const c of members) roomMembers.set(c.room!, (roomMembers.get(c.room!) ?? 0) + 1);
  const pubRooms = msg.publishers.map((p) => roomMembers.get(p.room) ?? 0);
  return {
    type: 'results',
    workerId,
    hdr: (() => {
      const t = rec.totals();
      return { all: encodeHistogram(t.all), same: encodeHistogram(t.same), cross: encodeHistogram(t.cross), queued: encodeHistogram(rec.queued), replayed: encodeHistogram(rec.replayed) };
    })(),
    accounting,
    losses,
    perNode: { rx: tally.rx, px: tally.px },
    lostConnectedSamples: samples,
    windows,
    perSecond: rec.perSecondEncoded(),
    disconnections,
    crossArrivalBins: rec.crossArrivalBins(),
    disconnects,
    clockAnomalies: rec.clockAnomalies,
    latencyClamped: rec.latencyClamped,
    health: {
      cpuPercent: measured.map((h) => h.cpu),
      lagP99Ms: measured.map((h) => h.lag),
      cpuPerDeliveryUs: rec.measuredDeliveries > 0 ? rec.measuredCpuUs / rec.measuredDeliveries : null,
      burstSize: pubRooms.length ? pubRooms.reduce((a, b) => a + b, 0) / pubRooms.length : 0,
    },
  };
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
      protocol = msg.protocol;
      jwtSecret = msg.jwtSecret;
      connectRate = msg.connectRate;
      connectTimeoutMs = msg.connectTimeoutMs;
      reconnectPolicy = msg.reconnect;
      recover = msg.recover === true && protocol === 'socketio';
      setClientTls(msg.tls);
      rec.receiveCostUs = msg.receiveCostUs;
      if (msg.receiveLog !== undefined) {
        receiveLog = { ...msg.receiveLog, clockStart: measureClockOffset() };
        rec.sampleEvery = msg.receiveLog.every;
      }
      for (const c of msg.clients) {
        clients.set(c.id, { id: c.id, localAddress: c.localAddress, client: null, nodeId: null, joinNode: null, room: null, role: null, down: [], current: null, closing: false, session: null });
      }
      startTicks();
      send({ type: 'ready', workerId });
      return;
    case 'connect':
      send({ type: 'connected', workerId, results: await connectAll() });
      return;
    case 'join':
      send({ type: 'joined', workerId, failures: await joinAll(msg.assignments) });
      return;
    case 'set-reconnect':
      reconnectPolicy = msg.reconnect;
      send({ type: 'reconnect-set', workerId });
      return;
    case 'stats': {
      // A forced GC first (the worker runs with --expose-gc) so RSS reflects live memory.
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
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
      const lateSends = await publish(msg);
      const reports: PublisherReport[] = [...publishers.values()].map(({ state: _s, queue, ...r }) => ({ ...r, unflushed: queue.length }));
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
