/**
 * The in-process breakdown (`--role micro`): the per-message work of each receive path on
 * pre-built frames, no sockets, best of MICRO_REPEAT loops — what costs what, without network noise.
 */
import { nowUs } from '../common/clock.js';
import { DeliveryLedger } from '../load/delivery-ledger.js';
import { createLatencyHistogram, encodeHistogram } from '../model/histogram.js';
import { recordUs } from '../load/histogram-record.js';
import { ArrivalRecorder, type Payload, type Receiver } from '../load/arrival-recorder.js';
import { internalized } from '../common/intern.js';
import type { SioClient as SioClientT } from '../load/sio-client.js';
import { CPU_BROADCASTS_PER_S, CPU_CONNS, CPU_ROOMS, MICRO_N, MICRO_REPEAT, send } from './config.js';
import { PROFILES, profileArrival, recorder } from './client-role.js';

const P = PROFILES.lean;
const leanArrival = profileArrival(P);

export interface MicroResult {
  /** µs per message. */
  bareParse: number;
  leanParse: number | null;
  onArrival: number;
  leanTotal: number | null;
  nowUs: number;
  ledgerRecord: number;
  recordUs: number;
  /** ms per call of the worker's tick (encodeHistogram of one second's histogram at the offered rate). */
  tickEncodeMs: number;
  /** ms to seal one intended second's histograms at the offered rate (once per second; ArrivalRecorder.sealBefore). */
  sealMs: number;
}

export async function microRole(): Promise<void> {
  const { SioClient } = await import('../load/sio-client.js');
  const membersPerRoom = CPU_CONNS / CPU_ROOMS;
  const broadcasts = MICRO_N / membersPerRoom;
  let round = 0;
  /** Frames of one loop: fresh seqs every loop (a repeated seq would be a duplicate in the ledger). */
  const frames = () => {
    const bare: Buffer[] = [];
    const lean: Buffer[] = [];
    const data: unknown[] = [];
    for (let b = 0; b < broadcasts; b++) {
      const r = b % CPU_ROOMS;
      const d = { room: `r${r}`, payload: { pub: r, seq: round * broadcasts + b, t: nowUs(), n: `node-${1 + (r % 3)}` } };
      bare.push(Buffer.from(JSON.stringify(d)));
      lean.push(Buffer.from(`42${JSON.stringify(['msg', d])}`));
      data.push(d);
    }
    round++;
    return { bare, lean, data };
  };
  const cpuNow = () => {
    const c = process.cpuUsage();
    return c.user + c.system;
  };
  /** Best (lowest) µs per message over MICRO_REPEAT loops of MICRO_N messages. */
  const time = (body: (f: ReturnType<typeof frames>) => void): number => {
    let best = Infinity;
    for (let k = 0; k < MICRO_REPEAT; k++) {
      const f = frames();
      const t0 = cpuNow();
      body(f);
      best = Math.min(best, (cpuNow() - t0) / MICRO_N);
    }
    return best;
  };
  // Message i of a loop: broadcast floor(i / membersPerRoom), to member i % membersPerRoom of its room.
  const receiverOf = (b: number, m: number) => (b % CPU_ROOMS) + CPU_ROOMS * m;
  // As the worker keeps its clients (load/worker.ts): members of their room, the node id from the
  // server's welcome (the bench server's node-1), the recorder's fields in the literal.
  const states: Receiver[] = Array.from({ length: CPU_CONNS }, (_, id) => ({
    id,
    nodeId: internalized('node-1'),
    room: internalized(`r${id % CPU_ROOMS}`),
    role: 'member' as const,
    stream: undefined,
    streamPub: -1,
    rxNode: -1,
    rxNodeOf: undefined,
  }));
  recorder.measureFromUs = nowUs();
  let sink = 0;

  const bareParse = time((f) => {
    for (let i = 0; i < MICRO_N; i++) sink += (JSON.parse(f.bare[(i / membersPerRoom) | 0].toString()) as { payload: { seq: number } }).payload.seq;
  });

  // The real SioClient parsing path: handleMessage → onText → onSocketIoPacket → onEvent, on a
  // client object in the CONNECTED state (private fields set directly: a bench, not an API).
  let events = 0;
  let current: Receiver = states[0];
  const makeClient = (onEvent: (event: string, data: unknown) => void) => {
    const c = Object.create(SioClient.prototype) as Record<string, unknown>;
    Object.assign(c, { state: 1, early: null, _onEvent: onEvent, acks: null, pending: null, token: null, fullArgs: true, _sid: 'x', unreportedClose: null, csr: null, upstream: null });
    return c as unknown as SioClientT;
  };
  const counting = makeClient(() => events++);
  const arriving = makeClient((event, data) => {
    if (P.isMessage(event, data)) {
      events++;
      leanArrival(current, data);
    }
  });
  const leanLoop = (client: SioClientT) => (f: ReturnType<typeof frames>) => {
    for (let i = 0; i < MICRO_N; i++) {
      const b = (i / membersPerRoom) | 0;
      current = states[receiverOf(b, i % membersPerRoom)];
      SioClient.handleMessage(client, f.lean[b], false);
    }
  };
  events = 0;
  let leanParse: number | null = time(leanLoop(counting));
  if (events !== MICRO_N * MICRO_REPEAT) leanParse = null; // SioClient internals changed
  events = 0;
  let leanTotal: number | null = time(leanLoop(arriving));
  if (events !== MICRO_N * MICRO_REPEAT) leanTotal = null;

  const onArrivalUs = time((f) => {
    for (let i = 0; i < MICRO_N; i++) {
      const b = (i / membersPerRoom) | 0;
      recorder.onArrival(states[receiverOf(b, i % membersPerRoom)], f.data[b]);
    }
  });
  const nowUsCost = time(() => {
    for (let i = 0; i < MICRO_N; i++) sink += nowUs();
  });
  const scratchLedger = new DeliveryLedger();
  const ledgerRecord = time((f) => {
    for (let i = 0; i < MICRO_N; i++) {
      const b = (i / membersPerRoom) | 0;
      const p = (f.data[b] as { payload: Payload }).payload;
      scratchLedger.record(receiverOf(b, i % membersPerRoom), p.pub, p.seq);
    }
  });
  const h = createLatencyHistogram();
  const recordUsCost = time(() => {
    for (let i = 0; i < MICRO_N; i++) recordUs(h, 800 + (i % 5000));
  });
  // The tick encodes one second's histogram: CPU_BROADCASTS_PER_S × members samples.
  const perSecondSamples = CPU_BROADCASTS_PER_S * membersPerRoom;
  let tickEncodeMs = Infinity;
  for (let k = 0; k < MICRO_REPEAT; k++) {
    const hs = createLatencyHistogram();
    for (let i = 0; i < perSecondSamples; i++) recordUs(hs, 500 + ((i * 7919) % 20_000));
    const t0 = cpuNow();
    sink += encodeHistogram(hs).length;
    tickEncodeMs = Math.min(tickEncodeMs, (cpuNow() - t0) / 1000);
  }
  // Sealing one intended second (same/cross and per-node histograms, at the offered rate) once it
  // can get no more arrivals: once per second, as the worker's tick does (ArrivalRecorder.sealBefore).
  let sealMs = Infinity;
  for (let k = 0; k < MICRO_REPEAT; k++) {
    const rec = new ArrivalRecorder();
    const fresh: Receiver[] = states.map((x) => ({ id: x.id, nodeId: x.nodeId, room: x.room, role: x.role, stream: undefined, streamPub: -1, rxNode: -1, rxNodeOf: undefined }));
    const t0 = nowUs();
    rec.measureFromUs = t0 - 1;
    for (let i = 0; i < perSecondSamples; i++) {
      const b = (i / membersPerRoom) | 0;
      const r = b % CPU_ROOMS;
      // Latencies spread as an exponential over ~3 ms (intended time back-dated from now, within second 0).
      const lat = 200 + Math.round(-Math.log(((i * 7919) % 10_007) / 10_007 + 1e-4) * 600);
      rec.onStamp(fresh[receiverOf(b, i % membersPerRoom)], `r${r}`, { pub: r, seq: k * perSecondSamples + b, t: Math.max(t0, nowUs() - lat), n: `node-${1 + (r % 3)}` });
    }
    const c0 = cpuNow();
    rec.sealBefore(Number.POSITIVE_INFINITY);
    sealMs = Math.min(sealMs, (cpuNow() - c0) / 1000);
  }
  const result: MicroResult = { bareParse, leanParse, onArrival: onArrivalUs, leanTotal, nowUs: nowUsCost, ledgerRecord, recordUs: recordUsCost, tickEncodeMs, sealMs };
  send({ type: 'micro', result, sink });
}

