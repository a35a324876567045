/**
 * A load-generator worker process: holds a share of the client connections, publishes on a fixed
 * schedule, records every arrival (latency into HDR histograms, identity into the delivery
 * ledger) and reports to the coordinator over IPC. Started with child_process.fork.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowUs } from '../common/clock.js';
import { connectClient, ClientConnectError, type ProtocolClient, type WireProtocol } from './protocol-client.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { createLatencyHistogram, encodeHistogram, recordUs } from './histogram.js';
import { mintToken } from './token.js';
import type { ConnectResult, FromWorker, ToWorker } from './ipc.js';

interface ClientState {
  id: number;
  localAddress: string;
  client: ProtocolClient | null;
  nodeId: string | null;
  room: string | null;
  role: 'member' | 'publisher' | null;
}

interface Payload {
  pub: number;
  seq: number;
  t: number;
  n: string;
}

let workerId = -1;
let url = '';
let protocol: WireProtocol = 'socketio';
let jwtSecret = '';
let connectRate = 1000;
let connectTimeoutMs = 10_000;
const clients = new Map<number, ClientState>();
const ledger = new DeliveryLedger();
const histAll = createLatencyHistogram();
const histSame = createLatencyHistogram();
const histCross = createLatencyHistogram();
let histSecond = createLatencyHistogram();
let measureFromUs = Number.POSITIVE_INFINITY;
let sentThisSecond = 0;
let receivedThisSecond = 0;
let disconnects = 0;
let clockAnomalies = 0;
/** Per-second self-monitoring samples; only those of the measured window judge the generator. */
const healthSeries: Array<{ atUs: number; cpu: number; lag: number }> = [];
let tickTimer: NodeJS.Timeout | undefined;
const publisherSent = new Map<number, { sent: number; nodeId: string }>();

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function connectedCount(): number {
  let n = 0;
  for (const c of clients.values()) if (c.client?.connected) n++;
  return n;
}

function onArrival(state: ClientState, data: unknown): void {
  const now = nowUs();
  const p = (data as { payload?: Payload } | undefined)?.payload;
  if (!p || typeof p.seq !== 'number') return;
  receivedThisSecond++;
  const kind = ledger.record(state.id, p.pub, p.seq);
  // A duplicate's latency is not a delivery latency; it is counted in the ledger only.
  if (kind === 'duplicate' || p.t < measureFromUs) return;
  const lat = now - p.t;
  if (lat < 0) clockAnomalies++;
  recordUs(histAll, lat);
  recordUs(p.n === state.nodeId ? histSame : histCross, lat);
  recordUs(histSecond, lat);
}

async function connectOne(state: ClientState): Promise<ConnectResult> {
  const token = mintToken(jwtSecret, `client-${state.id}`);
  const t0 = nowUs();
  try {
    let welcomed: (nodeId: string) => void = () => undefined;
    const welcome = new Promise<string>((resolve) => (welcomed = resolve));
    const client = await connectClient(protocol, { url, token, localAddress: state.localAddress, connectTimeoutMs });
    const connectUs = nowUs() - t0;
    client.onEvent = (event, data) => {
      if (event === 'msg') onArrival(state, data);
      else if (event === 'welcome') welcomed((data as { nodeId: string }).nodeId);
    };
    client.onClose = () => {
      disconnects++;
    };
    state.client = client;
    // `welcome` follows the CONNECT ack immediately; bound the wait like the connect itself.
    const nodeId = await Promise.race([welcome, sleep(connectTimeoutMs).then(() => null)]);
    state.nodeId = nodeId;
    if (nodeId === null) return { id: state.id, nodeId: null, connectUs, error: 'no_welcome', errorMessage: 'no welcome event after connect' };
    return { id: state.id, nodeId, connectUs };
  } catch (e) {
    const cause = e instanceof ClientConnectError ? e.cause : 'error';
    return { id: state.id, nodeId: null, connectUs: nowUs() - t0, error: String(cause), errorMessage: e instanceof Error ? e.message : String(e) };
  }
}

async function connectAll(): Promise<ConnectResult[]> {
  const list = [...clients.values()];
  const spacingMs = 1000 / Math.max(1, connectRate);
  const start = Date.now();
  const pending: Array<Promise<ConnectResult>> = [];
  for (let i = 0; i < list.length; i++) {
    const due = start + i * spacingMs;
    const wait = due - Date.now();
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

function publish(msg: Extract<ToWorker, { type: 'publish' }>): Promise<number> {
  measureFromUs = msg.measureFromUs;
  const intervalUs = 1e6 / msg.rate;
  const pad = msg.payloadBytes > 0 ? 'x'.repeat(msg.payloadBytes) : undefined;
  let lateSends = 0;
  const pubs = msg.publishers.map((p) => {
    const state = clients.get(p.id)!;
    const rec = { sent: 0, nodeId: state.nodeId ?? 'unknown' };
    publisherSent.set(p.pub, rec);
    return { ...p, state, rec, seq: 0, nextT: msg.startUs + p.phase * intervalUs };
  });
  return new Promise((resolve) => {
    const pump = () => {
      const now = nowUs();
      let next = Number.POSITIVE_INFINITY;
      for (const p of pubs) {
        // Every message due by now goes out with its *intended* time: a stalled publisher shows
        // up as latency at the receivers instead of as fewer samples (no coordinated omission).
        while (p.nextT <= now && p.nextT < msg.endUs) {
          if (p.state.client?.connected) {
            const payload: Record<string, unknown> = { pub: p.pub, seq: p.seq, t: Math.round(p.nextT), n: p.rec.nodeId };
            if (pad) payload.pad = pad;
            p.state.client.emit('publish', { room: p.room, payload });
            p.seq++;
            p.rec.sent++;
            sentThisSecond++;
            if (now - p.nextT > 10_000) lateSends++;
          }
          p.nextT += intervalUs;
        }
        if (p.nextT < msg.endUs) next = Math.min(next, p.nextT);
      }
      if (next === Number.POSITIVE_INFINITY) resolve(lateSends);
      else setTimeout(pump, Math.max(0, (next - nowUs()) / 1000));
    };
    const first = Math.min(...pubs.map((p) => p.nextT));
    if (pubs.length === 0) resolve(0);
    else setTimeout(pump, Math.max(0, (first - nowUs()) / 1000));
  });
}

function startTicks(): void {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let cpu = process.cpuUsage();
  let last = process.hrtime.bigint();
  tickTimer = setInterval(() => {
    const nowNs = process.hrtime.bigint();
    const elapsedUs = Number(nowNs - last) / 1000;
    const c = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    last = nowNs;
    const cpuPercent = elapsedUs > 0 ? ((c.user + c.system) / elapsedUs) * 100 : 0;
    const lagP99Ms = lag.percentile(99) / 1e6;
    lag.reset();
    healthSeries.push({ atUs: nowUs(), cpu: cpuPercent, lag: lagP99Ms });
    send({
      type: 'tick',
      workerId,
      atUs: nowUs(),
      sent: sentThisSecond,
      received: receivedThisSecond,
      connections: connectedCount(),
      hdr: encodeHistogram(histSecond),
      cpuPercent,
      lagP99Ms,
    });
    sentThisSecond = 0;
    receivedThisSecond = 0;
    histSecond = createLatencyHistogram();
  }, 1000);
}

function collect(msg: Extract<ToWorker, { type: 'collect' }>): FromWorker {
  const byRoom = new Map<string, Array<{ pub: number; nodeId: string; sent: number }>>();
  for (const p of msg.publishers) {
    const l = byRoom.get(p.room) ?? [];
    l.push(p);
    byRoom.set(p.room, l);
  }
  const expectations = function* () {
    for (const c of clients.values()) {
      if (c.role !== 'member' || c.room === null) continue;
      for (const p of byRoom.get(c.room) ?? []) yield { receiver: c.id, pub: p.pub, sent: p.sent, cross: p.nodeId !== c.nodeId };
    }
  };
  const accounting = ledger.account(expectations());
  return {
    type: 'results',
    workerId,
    hdr: { all: encodeHistogram(histAll), same: encodeHistogram(histSame), cross: encodeHistogram(histCross) },
    accounting,
    disconnects,
    clockAnomalies,
    health: (() => {
      const measured = healthSeries.filter((h) => h.atUs > measureFromUs + 1e6);
      return { cpuPercent: measured.map((h) => h.cpu), lagP99Ms: measured.map((h) => h.lag) };
    })(),
  };
}

function closeAll(): void {
  if (tickTimer) clearInterval(tickTimer);
  for (const c of clients.values()) c.client?.close();
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
      for (const c of msg.clients) clients.set(c.id, { id: c.id, localAddress: c.localAddress, client: null, nodeId: null, room: null, role: null });
      startTicks();
      send({ type: 'ready', workerId });
      return;
    case 'connect':
      send({ type: 'connected', workerId, results: await connectAll() });
      return;
    case 'join':
      send({ type: 'joined', workerId, failures: await joinAll(msg.assignments) });
      return;
    case 'publish': {
      const lateSends = await publish(msg);
      send({ type: 'published', workerId, sent: [...publisherSent].map(([pub, r]) => ({ pub, sent: r.sent, nodeId: r.nodeId })), lateSends });
      return;
    }
    case 'collect':
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
