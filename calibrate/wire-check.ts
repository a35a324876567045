/**
 * The wire cross-check of `wsbench calibrate --wire`: how late the generator's receive time comes
 * after the frame reached its socket. That delay is the generator's own share of every latency it
 * reports (its measurement error).
 *
 * During a run, `dumpcap` (Debian's tshark package) captures on the loopback interface only, with
 * a port filter: frames leaving the load balancer's port (nginx → client sockets) and frames
 * leaving one node's port (node → nginx). The generator logs every n-th arrival with its receive
 * time (calibrate/receive-log.ts). Afterwards `tshark` reads the capture, and each sampled arrival is
 * matched to its frame:
 *
 * - the frame to the client: its destination address is the receiver's own source address (every
 *   client binds a distinct 127.x.y.z, load/source-address.ts), and its text holds
 *   `"pub":P,"seq":S`;
 * - the frame leaving the node: the first segment from that node's port holding `"pub":P,"seq":S`
 *   (the node writes one per local member, microseconds apart). It applies to receivers on that node.
 *
 * On loopback a packet reaches the receiving socket's queue in the same kernel pass that
 * timestamps it, so the frame time is when the data landed at the generator's socket. Capture
 * timestamps are CLOCK_REALTIME; the generator's are CLOCK_MONOTONIC. Each worker measured the
 * offset between the two at the start and the end of the run (to about 1 µs). The frame time is
 * the time of the TCP segment carrying the `pub`/`seq` bytes; a frame split over two segments
 * (rare with frames this small) is timed by the first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { WsbenchError } from '../common/errors.js';
import { findBinary } from '../common/binaries.js';
import type { ClockOffset, ReceiveLogFile } from './receive-log.js';

const INSTALL_HINT =
  'install it: `apt-get install -y tshark` (Debian; answer the wireshark-common question with DEBIAN_FRONTEND=noninteractive), or `npx wsbench setup --tests`';

/** tshark (reads captures) and dumpcap (captures), both from Debian's tshark package. Throws WSB_MISSING_BINARY. */
export function wireTools(): { tshark: string; dumpcap: string } {
  const tshark = findBinary('tshark');
  const dumpcap = findBinary('dumpcap');
  if (!tshark || !dumpcap) {
    throw new WsbenchError('WSB_MISSING_BINARY', `the wire cross-check needs tshark and dumpcap; ${!tshark ? 'tshark' : 'dumpcap'} was not found on PATH`, {
      hint: INSTALL_HINT,
    });
  }
  return { tshark, dumpcap };
}

export interface Capture {
  readonly pid: number | undefined;
  /** Stops the capture (SIGINT, SIGKILL after 5 s). Idempotent. Resolves with packets captured / dropped, when dumpcap said so. */
  stop(): Promise<{ captured: number | null; dropped: number | null }>;
}

/**
 * Starts dumpcap on `lo`, keeping only TCP segments whose source port is one of `ports`, writing
 * `file`. It resolves once dumpcap is capturing, or fails with WSB_CAPTURE_FAILED (its output in
 * the message) if it is not within `timeoutMs`.
 */
export async function startCapture(o: { dumpcap: string; ports: number[]; file: string; logFile: string; timeoutMs?: number }): Promise<Capture> {
  const filter = o.ports.map((p) => `tcp src port ${p}`).join(' or ');
  // -B: a 64 MiB kernel buffer, so bursts at 10,000 connections are not dropped.
  const child: ChildProcess = spawn(o.dumpcap, ['-i', 'lo', '-f', filter, '-B', '64', '-w', o.file, '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(o.logFile);
  let output = '';
  const onData = (c: Buffer) => {
    output += c.toString();
    log.write(c);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), o.timeoutMs ?? 10_000);
    const check = () => {
      if (/Capturing on/.test(output)) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stderr!.on('data', check);
    child.once('error', () => resolve(false));
    void exited.then(() => resolve(false));
  });
  let stopped: Promise<{ captured: number | null; dropped: number | null }> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
      const captured = /Packets captured:\s*(\d+)/.exec(output)?.[1];
      const dropped = /received\/dropped on interface '[^']*':\s*\d+\/(\d+)/.exec(output)?.[1];
      return { captured: captured === undefined ? null : Number(captured), dropped: dropped === undefined ? null : Number(dropped) };
    })());
  if (!started) {
    await stop();
    throw new WsbenchError('WSB_CAPTURE_FAILED', `dumpcap did not start capturing on lo within ${o.timeoutMs ?? 10_000} ms: ${output.trim().split('\n').slice(-5).join(' | ') || 'no output'}`, {
      hint: 'capturing needs root or the wireshark group (dpkg-reconfigure wireshark-common); see the capture log in the run folder',
    });
  }
  return { pid: child.pid, stop };
}

/** One captured TCP segment that carried broadcast messages. */
export interface WireFrame {
  /** CLOCK_REALTIME µs (capture timestamp). */
  epochUs: number;
  srcPort: number;
  dstAddr: string;
  /** Every (pub, seq) whose text is in the segment. */
  messages: Array<[pub: number, seq: number]>;
}

/** `1795922560.594298656` → µs since the epoch (fractional), without losing digits to a float parse. */
export function epochToUs(text: string): number {
  const [sec, frac = ''] = text.split('.');
  const f = frac.padEnd(9, '0');
  return Number(sec) * 1e6 + Number(f.slice(0, 6)) + Number(f.slice(6, 9)) / 1000;
}

const PUB_SEQ = /"pub":(\d+),"seq":(\d+)/g;

/** Parses one line of `tshark -T fields -e frame.time_epoch -e tcp.srcport -e ip.dst -e tcp.payload`. */
export function parseFrameLine(line: string): WireFrame | null {
  const [epoch, src, dst, hex] = line.split('\t');
  if (!hex) return null;
  const text = Buffer.from(hex.replace(/:/g, ''), 'hex').toString('latin1');
  const messages: Array<[number, number]> = [];
  for (const m of text.matchAll(PUB_SEQ)) messages.push([Number(m[1]), Number(m[2])]);
  if (messages.length === 0) return null;
  return { epochUs: epochToUs(epoch), srcPort: Number(src), dstAddr: dst, messages };
}

/** Reads the frames that carried messages from a capture file. */
export async function readFrames(tshark: string, file: string): Promise<WireFrame[]> {
  // No TCP reassembly: every segment on its own, with its own timestamp.
  const child = spawn(
    tshark,
    ['-r', file, '-n', '-o', 'tcp.desegment_tcp_streams:FALSE', '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.time_epoch', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.payload'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const frames: WireFrame[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    const f = parseFrameLine(line);
    if (f) frames.push(f);
  }
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (c) => resolve(c))));
  if (code !== 0) {
    throw new WsbenchError('WSB_CAPTURE_FAILED', `tshark could not read ${file} (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`, { hint: 'see the capture log in the run folder' });
  }
  return frames;
}

export interface Percentiles {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.ceil((q / 100) * v.length) - 1)];
  const r = (x: number) => Math.round(x * 10) / 10;
  return { count: v.length, min: r(v[0]), p50: r(at(50)), p90: r(at(90)), p99: r(at(99)), max: r(v[v.length - 1]) };
}

export interface WireCheckResult {
  /** Arrivals the generator logged, and those matched to a captured frame. */
  samples: number;
  matched: number;
  /** Segments carrying messages: to the clients (lb port), and leaving the node. */
  framesToClients: number;
  framesFromNode: number;
  /** Generator socket → generator receive time, µs: the generator's own receive overhead. */
  overheadUs: Percentiles | null;
  /** The node wrote the frame → generator receive time, µs (nginx hop + generator), receivers on `node`. */
  nodeToRecordedUs: Percentiles | null;
  node: string;
  /** Matched arrivals the generator recorded before the frame reached its socket by more than the clock mapping's error. */
  beforeFrame: number;
  clock: {
    /** How far the workers' start and end offsets are apart, µs (drift during the run plus disagreement between processes). */
    spreadUs: number;
    /** Largest bracket half-width of one edge, µs. */
    uncertaintyUs: number;
    /** Error bound on a mapped frame time: spread + uncertainty + 1 µs of capture timestamp resolution. */
    errorUs: number;
  };
}

/**
 * Matches the logged arrivals to the captured frames. `lbPort`: frames to the clients; `nodePort`
 * / `node`: frames leaving that node (its id, as the receivers' welcome named it).
 */
export function crossCheck(frames: WireFrame[], logs: ReceiveLogFile[], o: { lbPort: number; nodePort: number; node: string }): WireCheckResult {
  const toClient = new Map<string, number>();
  const fromNode = new Map<string, number>();
  let framesToClients = 0;
  let framesFromNode = 0;
  for (const f of frames) {
    if (f.srcPort === o.lbPort) {
      framesToClients++;
      for (const [pub, seq] of f.messages) {
        const k = `${f.dstAddr}|${pub}|${seq}`;
        if (!toClient.has(k)) toClient.set(k, f.epochUs);
      }
    } else if (f.srcPort === o.nodePort) {
      framesFromNode++;
      for (const [pub, seq] of f.messages) {
        const k = `${pub}|${seq}`;
        const t = fromNode.get(k);
        if (t === undefined || f.epochUs < t) fromNode.set(k, f.epochUs);
      }
    }
  }
  const offsets: ClockOffset[] = logs.flatMap((l) => [l.clock.start, l.clock.end]);
  const spreadUs = offsets.length ? Math.max(...offsets.map((c) => c.offsetUs)) - Math.min(...offsets.map((c) => c.offsetUs)) : 0;
  const uncertaintyUs = offsets.length ? Math.max(...offsets.map((c) => c.uncertaintyUs)) : 0;
  const errorUs = Math.round((spreadUs + uncertaintyUs + 1) * 100) / 100;
  const overhead: number[] = [];
  const nodeTo: number[] = [];
  let samples = 0;
  let beforeFrame = 0;
  for (const l of logs) {
    const offset = l.clock.start.offsetUs;
    for (let i = 0; i + 3 < l.samples.length; i += 4) {
      const [receiver, pub, seq, recvUs] = [l.samples[i], l.samples[i + 1], l.samples[i + 2], l.samples[i + 3]];
      samples++;
      const [addr, nodeId] = l.receivers[receiver] ?? [undefined, null];
      const atSocket = addr === undefined ? undefined : toClient.get(`${addr}|${pub}|${seq}`);
      if (atSocket === undefined) continue;
      const d = recvUs - (atSocket - offset);
      overhead.push(d);
      if (d < -errorUs) beforeFrame++;
      const left = nodeId === o.node ? fromNode.get(`${pub}|${seq}`) : undefined;
      if (left !== undefined) nodeTo.push(recvUs - (left - offset));
    }
  }
  return {
    samples,
    matched: overhead.length,
    framesToClients,
    framesFromNode,
    overheadUs: percentiles(overhead),
    nodeToRecordedUs: percentiles(nodeTo),
    node: o.node,
    beforeFrame,
    clock: { spreadUs: Math.round(spreadUs * 100) / 100, uncertaintyUs, errorUs },
  };
}
