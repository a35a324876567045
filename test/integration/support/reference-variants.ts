/**
 * Test support for the reference-server behaviour suite: how to start each variant (socketio and
 * ws under node, bun under the bun binary) and a small client per wire protocol behind one
 * interface, and a factory returning `[cluster, cleanup]` for a variant (as the socket.io redis
 * adapter's test-runner does for each Redis client).
 *
 * Nodes are spawned from dist/ (build first: `npx tsc -p .`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { io as ioClient, type Socket } from 'socket.io-client';
import { WsClient } from '../../../load/ws-client.js';
import { ClientConnectError } from '../../../load/protocol-client.js';
import { bunBinary } from '../../../common/binaries.js';
import { mintToken } from '../../../reference-server/token.js';
import { startRedis, type RedisHandle } from './redis.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const NODE_MAIN = path.join(ROOT, 'dist/reference-server/main.js');
export const BUN_MAIN = path.join(ROOT, 'dist/reference-server/bun-main.js');
export const SECRET = 'reference-server-test-secret';
const ACK_TIMEOUT_MS = 5000;

export type Variant = 'socketio' | 'ws' | 'bun';
export const VARIANTS: Variant[] = ['socketio', 'ws', 'bun'];

// ---------------------------------------------------------------------------------------------
// processes

export interface Listening {
  event: 'listening';
  nodeId: string;
  port: number;
  pid: number;
  server: string;
  adapter: string;
  versions: Record<string, string>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProc {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly stdoutLines: string[];
  onLine(cb: (line: string) => void): void;
  stderr(): string;
  /** SIGKILL unless already exited. Idempotent. */
  stop(): Promise<void>;
}

export interface RefNode extends NodeProc {
  readonly listening: Listening;
  readonly url: string;
}

const procs = new Set<NodeProc>();

/** The command line that runs `variant` (before its flags). */
export function programOf(variant: Variant): [string, string[]] {
  if (variant === 'bun') return [bunBinary(), [BUN_MAIN]];
  return [process.execPath, [NODE_MAIN, '--server', variant]];
}

export function spawnProgram(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): NodeProc {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  const stdoutLines: string[] = [];
  const listeners: Array<(l: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdoutLines.push(line);
    for (const l of listeners) l(line);
  });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stopping: Promise<void> | undefined;
  const proc: NodeProc = {
    child,
    exited,
    stdoutLines,
    onLine: (cb) => listeners.push(cb),
    stderr: () => err,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
        procs.delete(proc);
      })();
      return stopping;
    },
  };
  procs.add(proc);
  return proc;
}

export function spawnVariant(variant: Variant, args: string[], env: NodeJS.ProcessEnv = process.env): NodeProc {
  const [command, program] = programOf(variant);
  return spawnProgram(command, [...program, ...args], env);
}

export async function startRefNode(variant: Variant, redisUrl: string, nodeId: string, extra: string[] = []): Promise<RefNode> {
  const proc = spawnVariant(variant, ['--port', '0', '--host', '127.0.0.1', '--redis', redisUrl, '--node-id', nodeId, '--jwt-secret', SECRET, ...extra]);
  const listening = await new Promise<Listening>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${nodeId}: no listening line in 20 s\n${proc.stderr()}`)), 20_000);
    proc.onLine((line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as Listening);
      } catch {
        reject(new Error(`${nodeId}: unexpected stdout line: ${line}`));
      }
    });
    void proc.exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`${nodeId} exited early (${e.code ?? e.signal})\n${proc.stderr()}`));
    });
  });
  return { ...proc, listening, url: `http://127.0.0.1:${listening.port}` };
}

// ---------------------------------------------------------------------------------------------
// clients: one interface over socket.io-client and the JSON-protocol client

export interface Welcome {
  nodeId: string;
  sid: string;
}

export interface TestClient {
  readonly welcome: Welcome;
  /** Sends an event and resolves with its ack. */
  ack<T = Record<string, unknown>>(event: string, data: unknown): Promise<T>;
  /** Sends an event without asking for an ack. */
  emit(event: string, data: unknown): void;
  on(event: string, cb: (data: unknown) => void): void;
  /** Settles when the connection closed: the WebSocket close code (JSON protocol) or the socket.io reason. */
  readonly closed: Promise<{ code?: number; reason: string }>;
  close(): void;
}

/** Why a connection attempt was refused, normalised over the protocols. */
export interface Refusal {
  /** True when the server refused the token (socket.io `connect_error unauthorized: …`; ws/bun HTTP 401). */
  unauthorized: boolean;
  detail: string;
}

const openClients = new Set<{ close(): void }>();

async function connectSocketIo(url: string, token: string): Promise<TestClient> {
  const socket: Socket = ioClient(url, { transports: ['websocket'], auth: { token }, forceNew: true, reconnection: false });
  openClients.add(socket);
  const closed = new Promise<{ reason: string }>((resolve) => socket.once('disconnect', (reason) => resolve({ reason })));
  const welcome = await new Promise<Welcome>((resolve, reject) => {
    socket.once('welcome', (w: Welcome) => resolve(w));
    socket.once('connect_error', (e) => reject(e));
  });
  return {
    welcome,
    ack: <T>(event: string, data: unknown) => socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, data) as Promise<T>,
    emit: (event, data) => void socket.emit(event, data),
    on: (event, cb) => void socket.on(event, cb),
    closed,
    close: () => socket.close(),
  };
}

async function connectJson(url: string, token: string): Promise<TestClient> {
  const client = await WsClient.connect({ url, token, connectTimeoutMs: ACK_TIMEOUT_MS });
  openClients.add(client);
  const listeners = new Map<string, Array<(data: unknown) => void>>();
  let welcomed: (w: Welcome) => void = () => undefined;
  const welcomeP = new Promise<Welcome>((resolve) => (welcomed = resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    client.onClose = (code, reason) => resolve({ code, reason });
  });
  client.onEvent = (event, data) => {
    if (event === 'welcome') welcomed(data as Welcome);
    for (const cb of listeners.get(event) ?? []) cb(data);
  };
  const welcome = await Promise.race([
    welcomeP,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no welcome')), ACK_TIMEOUT_MS)),
  ]);
  return {
    welcome,
    ack: <T>(event: string, data: unknown) => client.emitWithAck(event, data, ACK_TIMEOUT_MS) as Promise<T>,
    emit: (event, data) => void client.emit(event, data),
    on: (event, cb) => {
      const l = listeners.get(event) ?? [];
      l.push(cb);
      listeners.set(event, l);
    },
    closed,
    close: () => client.close(),
  };
}

/** Connects with a token granting `rooms` to user `sub`; resolves after `welcome`. */
export async function connect(variant: Variant, url: string, rooms: string[], sub = 'user'): Promise<TestClient> {
  const token = await mintToken(SECRET, { sub, rooms });
  return variant === 'socketio' ? connectSocketIo(url, token) : connectJson(url, token);
}

/** A connection attempt that must be refused; `token` undefined sends none. */
export async function refused(variant: Variant, url: string, token: string | undefined): Promise<Refusal> {
  if (variant === 'socketio') {
    const socket = ioClient(url, { transports: ['websocket'], auth: token === undefined ? {} : { token }, forceNew: true, reconnection: false });
    openClients.add(socket);
    const err = await new Promise<Error>((resolve, reject) => {
      socket.once('connect_error', (e) => resolve(e));
      socket.once('connect', () => reject(new Error('connected although it should have been refused')));
    });
    return { unauthorized: /^unauthorized/.test(err.message), detail: err.message };
  }
  try {
    // The JSON-protocol client always puts a token in the query; an empty one counts as none.
    const c = await WsClient.connect({ url, token: token ?? '', connectTimeoutMs: ACK_TIMEOUT_MS });
    c.close();
    throw new Error('connected although it should have been refused');
  } catch (e) {
    if (!(e instanceof ClientConnectError)) throw e;
    return { unauthorized: e.cause === 'auth' && e.status === 401, detail: `${e.cause} ${e.status ?? ''} ${e.message}` };
  }
}

export function closeClients(): void {
  for (const c of openClients) c.close();
  openClients.clear();
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------------------------------------
// the factory

export interface TestCluster {
  readonly variant: Variant;
  readonly redis: RedisHandle;
  readonly node1: RefNode;
  readonly node2: RefNode;
  /** `--rate-limit 5 --room-capacity 2 --max-payload 4096`. */
  readonly limited: RefNode;
  /** Starts one more node of this variant on the cluster's Redis. */
  startNode(nodeId: string, extra?: string[]): Promise<RefNode>;
  connect(url: string, rooms: string[], sub?: string): Promise<TestClient>;
  refused(url: string, token: string | undefined): Promise<Refusal>;
}

export const LIMITED_FLAGS = ['--rate-limit', '5', '--room-capacity', '2', '--max-payload', '4096'];

/** One redis-server and three nodes of `variant`; the cleanup stops every process it started. */
export async function createCluster(variant: Variant): Promise<[TestCluster, () => Promise<void>]> {
  const main = variant === 'bun' ? BUN_MAIN : NODE_MAIN;
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx tsc -p .\` first`);
  const redis = await startRedis();
  const mine = new Set<NodeProc>();
  const startNode = async (nodeId: string, extra: string[] = []) => {
    const n = await startRefNode(variant, redis.url, nodeId, extra);
    mine.add(n);
    return n;
  };
  const cleanup = async () => {
    closeClients();
    await Promise.all([...mine].map((p) => p.stop()));
    await redis.stop();
  };
  try {
    const [node1, node2, limited] = await Promise.all([startNode('node-1'), startNode('node-2'), startNode('node-limited', LIMITED_FLAGS)]);
    const cluster: TestCluster = {
      variant,
      redis,
      node1,
      node2,
      limited,
      startNode,
      connect: (url, rooms, sub) => connect(variant, url, rooms, sub),
      refused: (url, token) => refused(variant, url, token),
    };
    return [cluster, cleanup];
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Stops every process this module started (safety net for afterAll). */
export async function stopAll(): Promise<void> {
  closeClients();
  await Promise.all([...procs].map((p) => p.stop()));
}
