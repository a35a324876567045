import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { BoundPorts, GenericContainer, type StartedTestContainer, type WaitStrategy } from 'testcontainers';
import { WsbenchError, type ErrorCode } from '../common/errors.js';
import type { EngineInfo } from './docker-engine.js';
import type { ContainerSpec } from './docker-spec.js';

/** testcontainers' GenericContainer with two additions: published ports bind to 127.0.0.1 only, and the id is known as soon as the container exists. */
class WsbContainer extends GenericContainer {
  createdId: string | undefined;

  protected override async beforeContainerCreated(): Promise<void> {
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as Array<Array<{ HostIp?: string; HostPort?: string }>>) {
      for (const b of bindings) b.HostIp = '127.0.0.1';
    }
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    this.createdId = containerId;
  }
}

/** The readiness each component waits for, mapped to the local driver's error codes. */
export interface Readiness {
  code: ErrorCode;
  strategy: () => WaitStrategy;
}

type DockerodeContainer = ReturnType<EngineInfo['client']['container']['getById']>;

export function dockerMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * One running component: the testcontainers handle from its first start, the dockerode container
 * for what testcontainers does not offer (kill with a signal, start again, pause), its log file,
 * and the last lines it printed (for error messages).
 */
export class ComponentContainer {
  readonly name: string;
  private started: StartedTestContainer | undefined;
  private container: DockerodeContainer | undefined;
  private hostPid: number | undefined;
  private isRunning = false;
  private paused = false;
  private readonly out: WriteStream;
  private tail: string[] = [];
  private partial = '';
  private readonly lineListeners = new Set<(line: string) => void>();
  private removed: Promise<void> | undefined;

  constructor(
    readonly spec: ContainerSpec,
    private readonly engine: EngineInfo,
    logFile: string,
    private readonly readiness: Readiness,
    private readonly readyTimeoutMs: number,
  ) {
    this.name = spec.component;
    this.out = createWriteStream(logFile, { flags: 'a' });
    this.out.on('error', () => undefined);
  }

  get id(): string | undefined {
    return this.container?.id;
  }

  pid(): number | undefined {
    return this.isRunning ? this.hostPid : undefined;
  }

  running(): boolean {
    return this.isRunning;
  }

  lastLines(n = 10): string {
    return this.tail.slice(-n).join('\n');
  }

  /** Calls `listener` with every line the container prints from now on; returns the unsubscribe. */
  onLine(listener: (line: string) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  private consume(stream: Readable): void {
    stream.on('data', (chunk: Buffer | string) => {
      const text = this.partial + chunk.toString();
      // The last lines of a removed container may still be in flight when its log file is closed.
      if (!this.out.writableEnded) this.out.write(chunk);
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        this.tail.push(line);
        if (this.tail.length > 50) this.tail.shift();
        for (const l of this.lineListeners) l(line);
      }
    });
    stream.on('error', () => undefined);
  }

  /** Creates and starts the container through testcontainers and waits until it is ready. */
  async create(): Promise<void> {
    const s = this.spec;
    const c = new WsbContainer(s.image)
      .withName(s.name)
      .withLabels(s.labels)
      .withEnvironment(s.env)
      // No Ryuk: its image comes from a registry; the run's labels and `wsbench clean` do its job.
      .withAutoCleanup(false)
      .withWaitStrategy(this.readiness.strategy())
      .withStartupTimeout(this.readyTimeoutMs)
      .withLogConsumer((stream) => this.consume(stream));
    // Empty: the image's own ENTRYPOINT / CMD (a user's server image).
    if (s.entrypoint.length) c.withEntrypoint(s.entrypoint);
    if (s.command.length) c.withCommand(s.command);
    if (s.network.mode === 'host') c.withNetworkMode('host');
    else c.withNetworkMode(s.network.name).withNetworkAliases(s.network.alias);
    if (s.ports.length) c.withExposedPorts(...s.ports.map((p) => ({ container: p.container, host: p.host })));
    if (s.binds.length) c.withBindMounts(s.binds);
    if (s.workingDir) c.withWorkingDir(s.workingDir);
    if (s.user) c.withUser(s.user);
    try {
      this.started = await c.start();
    } catch (e) {
      throw this.startError(e);
    } finally {
      if (c.createdId) this.container = this.engine.client.container.getById(c.createdId);
    }
    this.container = this.engine.client.container.getById(this.started.getId());
    await this.refresh();
  }

  /** Turns a testcontainers/engine failure into the coded error the local driver would give. */
  private startError(e: unknown): WsbenchError {
    if (e instanceof WsbenchError) return e;
    const msg = dockerMessage(e);
    const tail = this.lastLines();
    if (/address already in use|EADDRINUSE/i.test(tail)) {
      return new WsbenchError('WSB_PORT_IN_USE', `${this.name} could not listen on 127.0.0.1:${this.spec.hostPort}: address already in use`, {
        hint: 'free the port, or let wsbench pick free ports (omit --lb-port)',
      });
    }
    if (/port is already allocated|bind: address already in use/i.test(msg)) {
      return new WsbenchError('WSB_PORT_IN_USE', `${this.name}: ${msg}`, { hint: 'free the port, or let wsbench pick free ports (omit --lb-port)' });
    }
    if (/exited|stream ended/i.test(msg)) {
      // A user's server that exits before it is ready never became ready (WSB_SERVER_NOT_READY).
      const code = this.readiness.code === 'WSB_SERVER_NOT_READY' ? this.readiness.code : 'WSB_PROCESS_EXITED';
      return new WsbenchError(code, `${this.name} container exited before it was ready; last output:\n${tail}`, {
        hint: `see logs/${this.name}.log in the run folder`,
        cause: e,
      });
    }
    if (/not received after|not answering after|not successful after|not accessible after/i.test(msg)) {
      return new WsbenchError(this.readiness.code, `${this.name} container not ready after ${this.readyTimeoutMs} ms (${msg}); last output:\n${tail}`, {
        hint: `raise --ready-timeout, or see logs/${this.name}.log in the run folder`,
        cause: e,
      });
    }
    return new WsbenchError('WSB_CONTAINER_FAILED', `${this.name} container (${this.spec.image}) could not start: ${msg}`, {
      hint: 'check `docker info` and the image (`wsbench doctor`)',
      cause: e,
    });
  }

  /** Whether the engine reports the container paused (frozen), read now. */
  async enginePaused(): Promise<boolean> {
    await this.refresh();
    return this.paused;
  }

  private async refresh(): Promise<void> {
    if (!this.container) return;
    const st = (await this.container.inspect()).State as { Running: boolean; Paused: boolean; Pid: number };
    this.isRunning = st.Running;
    this.paused = st.Paused;
    this.hostPid = st.Pid > 0 ? st.Pid : undefined;
  }

  private must(): DockerodeContainer {
    if (!this.container) throw new WsbenchError('WSB_CONTAINER_FAILED', `${this.name} container was never created`);
    return this.container;
  }

  private async api<T>(what: string, fn: () => Promise<T>, ignore?: RegExp): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (ignore?.test(dockerMessage(e))) return undefined;
      throw new WsbenchError('WSB_CONTAINER_FAILED', `${what} ${this.name} container: ${dockerMessage(e)}`, { hint: 'check `docker info`', cause: e });
    }
  }

  /** Sends a signal to the container's main process (docker kill --signal). */
  async signal(sig: NodeJS.Signals): Promise<void> {
    const c = this.must();
    // A frozen process cannot act on a signal; SIGKILL works on a paused container anyway.
    if (this.paused && sig !== 'SIGKILL') await this.resume();
    await this.api(`signalling (${sig})`, () => c.kill({ signal: sig }), /is not running|not running/i);
  }

  /** SIGKILL; resolves once the container has stopped. */
  async kill(): Promise<void> {
    const c = this.must();
    await this.api('killing', () => c.kill({ signal: 'SIGKILL' }), /is not running|not running/i);
    await this.api('waiting for', () => c.wait());
    await this.refresh();
  }

  /**
   * `sig` (the spec's stop signal, default SIGTERM), SIGKILL after `graceMs` (as ManagedProcess.stop): the signal is sent directly rather
   * than through `docker stop`, so an image's STOPSIGNAL (nginx's is SIGQUIT) does not change the
   * meaning of the action. The container stays, so that `start()` can run it again.
   */
  async stop(graceMs = this.spec.stop?.timeoutMs ?? 5000, sig: NodeJS.Signals = this.spec.stop?.signal ?? 'SIGTERM'): Promise<void> {
    if (!this.container) return;
    await this.refresh();
    if (!this.isRunning) return;
    const c = this.container;
    if (this.paused) await this.resume();
    await this.api('stopping', () => c.kill({ signal: sig }), /is not running|not running/i);
    const timer = setTimeout(() => void c.kill({ signal: 'SIGKILL' }).catch(() => undefined), graceMs);
    try {
      await this.api('waiting for', () => c.wait());
    } finally {
      clearTimeout(timer);
    }
    await this.refresh();
  }

  /** Starts the stopped container again (same command, same port) and waits until it is ready. */
  async start(): Promise<void> {
    const c = this.must();
    await this.refresh();
    if (this.paused) await this.resume();
    await this.api('starting', () => c.start(), /already started|304/i);
    const st = (await c.inspect()).State as { StartedAt: string };
    const startedAt = new Date(st.StartedAt);
    // A new log stream from the (re)start on; testcontainers' own consumer ended with the old process.
    if (!this.out.writableEnded) this.out.write(`--- wsbench: container started again at ${startedAt.toISOString()} ---\n`);
    this.consume(await this.engine.client.container.logs(c, { since: Math.floor(startedAt.getTime() / 1000) }));
    const strategy = this.readiness.strategy().withStartupTimeout(this.readyTimeoutMs);
    try {
      await strategy.waitUntilReady(c, new BoundPorts(), startedAt);
    } catch (e) {
      throw this.startError(e);
    }
    await this.refresh();
  }

  async pause(): Promise<void> {
    const c = this.must();
    await this.api('pausing', () => c.pause());
    this.paused = true;
  }

  async resume(): Promise<void> {
    const c = this.must();
    await this.api('unpausing', () => c.unpause(), /is not paused/i);
    this.paused = false;
  }

  async exec(cmd: string[]): Promise<string> {
    if (!this.started) return '';
    const r = await this.started.exec(cmd);
    return r.output;
  }

  /** Graceful stop, then removal with its anonymous volumes. Idempotent. */
  remove(): Promise<void> {
    this.removed ??= (async () => {
      try {
        if (this.container) {
          await this.stop().catch(() => undefined);
          await this.api('removing', () => this.container!.remove({ force: true, v: true }), /no such container|already in progress|404|409/i);
        }
      } finally {
        this.isRunning = false;
        this.out.end();
      }
    })();
    return this.removed;
  }
}
