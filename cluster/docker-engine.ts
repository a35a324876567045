import os from 'node:os';
import { getContainerRuntimeClient, ImageName, type ContainerRuntimeClient } from 'testcontainers';
import { WsbenchError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { processIdentity } from './process-identity.js';
import { upstreamOf } from './docker-options.js';
import type { DockerNetworkMode } from './docker-options.js';

const log = logger('docker');

/** Labels every container (and network) of a run carries, so teardown and `wsbench clean` find them. */
export const LABELS = {
  /** `true` on everything wsbench starts. */
  marker: 'wsbench',
  /** The run id. */
  run: 'wsbench.run',
  /** `redis`, `node-1`, …, `nginx`. */
  component: 'wsbench.component',
  /** pid of the wsbench process that owns the run. */
  cliPid: 'wsbench.cli.pid',
  /** Start time of that process (/proc/<pid>/stat field 22): tells a live owner from a reused pid. */
  cliStart: 'wsbench.cli.start',
  /** Host the owner runs on (its pid means nothing elsewhere). */
  host: 'wsbench.host',
} as const;

/** Labels for one run's resources: the marker, the run id and the owning process. */
export function runLabels(runId: string, component?: string): Record<string, string> {
  const me = processIdentity(process.pid);
  return {
    [LABELS.marker]: 'true',
    [LABELS.run]: runId,
    ...(component ? { [LABELS.component]: component } : {}),
    [LABELS.cliPid]: String(process.pid),
    [LABELS.cliStart]: String(me?.startTime ?? ''),
    [LABELS.host]: os.hostname(),
  };
}

/**
 * testcontainers finds its host through the `bridge` network when it runs inside a container; an
 * engine started with `--bridge=none` has none, and host networking needs no mapped-port host
 * anyway. For a local engine (unix socket) the host is this machine: say so, unless the user did.
 * Ryuk is not touched here: wsbench's containers opt out of it one by one (`withAutoCleanup(false)`).
 */
function applyEnvDefaults(env: NodeJS.ProcessEnv = process.env): void {
  const dockerHost = env.DOCKER_HOST ?? '';
  if (env.TESTCONTAINERS_HOST_OVERRIDE === undefined && (dockerHost === '' || dockerHost.startsWith('unix://'))) {
    env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  }
}

export interface EngineInfo {
  client: ContainerRuntimeClient;
  serverVersion: string;
  operatingSystem: string;
  osType: string;
  /** Rootless engines keep host networking in their own namespace: 127.0.0.1 there is not ours. */
  rootless: boolean;
  /** DOCKER_HOST is a TCP/SSH address: the engine is on another machine. */
  remote: boolean;
}

let cached: Promise<EngineInfo> | undefined;

/**
 * Connects to the Docker engine through testcontainers (DOCKER_HOST, ~/.testcontainers.properties,
 * the unix socket…). Rejects with WSB_DOCKER_UNAVAILABLE, naming why, within `timeoutMs`.
 */
export function connectEngine(timeoutMs = 10_000): Promise<EngineInfo> {
  cached ??= (async () => {
    applyEnvDefaults();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const client = await Promise.race([getContainerRuntimeClient(), timeout]);
      const raw = (await Promise.race([client.container.dockerode.info(), timeout])) as { SecurityOptions?: string[] };
      const info = client.info.containerRuntime;
      log(`engine ${info.serverVersion} (${info.operatingSystem}), host ${info.host}`);
      return {
        client,
        serverVersion: String(info.serverVersion),
        operatingSystem: info.operatingSystem,
        osType: info.operatingSystemType,
        rootless: (raw.SecurityOptions ?? []).some((o) => o.includes('rootless')),
        remote: /^(tcp|ssh|https?):\/\//.test(process.env.DOCKER_HOST ?? ''),
      };
    } catch (e) {
      throw new WsbenchError('WSB_DOCKER_UNAVAILABLE', `no Docker engine reachable: ${e instanceof Error ? e.message : String(e)}`, {
        hint: 'start the Docker engine (or set DOCKER_HOST), check with `docker info` and `wsbench doctor`; or use --driver local',
        cause: e,
      });
    } finally {
      clearTimeout(timer);
    }
  })();
  // A failed attempt is not remembered: the engine may come up later in the same process.
  cached.catch(() => (cached = undefined));
  return cached;
}


/**
 * Host networking keeps NAT out of the measured path; it is only what it seems on a Linux engine
 * that runs on this machine in this network namespace. Docker Desktop (a VM), rootless engines
 * (their own namespace) and remote engines get a user-defined bridge network instead.
 */
export function chooseNetworkMode(
  requested: 'auto' | DockerNetworkMode,
  e: { platform: NodeJS.Platform; osType: string; operatingSystem: string; rootless: boolean; remote: boolean },
): { mode: DockerNetworkMode; why: string } {
  if (requested !== 'auto') return { mode: requested, why: `forced with --docker-network ${requested}` };
  if (e.platform !== 'linux') return { mode: 'bridge', why: `the harness runs on ${e.platform}: the engine is in a VM` };
  if (e.osType !== 'linux') return { mode: 'bridge', why: `the engine runs ${e.osType} containers` };
  if (/docker desktop/i.test(e.operatingSystem)) return { mode: 'bridge', why: 'Docker Desktop runs containers in a VM' };
  if (e.rootless) return { mode: 'bridge', why: 'a rootless engine keeps host networking in its own namespace' };
  if (e.remote) return { mode: 'bridge', why: 'DOCKER_HOST names another machine' };
  return { mode: 'host', why: 'Linux engine on this machine: host networking, no NAT in the measured path' };
}

/** Whether an image is present in the engine's local store (no registry is contacted). */
export async function imagePresent(client: ContainerRuntimeClient, ref: string): Promise<{ present: boolean; id?: string; localBuild?: boolean }> {
  try {
    const info = (await client.container.dockerode.getImage(ImageName.fromString(ref).string).inspect()) as { Id: string; Config?: { Labels?: Record<string, string> | null } };
    return { present: true, id: info.Id, localBuild: info.Config?.Labels?.['wsbench.local-build'] === 'true' };
  } catch (e) {
    if (e instanceof Error && /no such image|404/i.test(e.message)) return { present: false };
    throw e;
  }
}

/**
 * Makes sure `ref` is in the local store: pulls it when missing (policy `missing`), or fails with
 * WSB_IMAGE_MISSING (policy `never`, or the pull did not bring it).
 */
export async function ensureImage(client: ContainerRuntimeClient, ref: string, policy: 'missing' | 'never', flag: string): Promise<string> {
  const upstreamRef = upstreamOf(ref);
  const hint = upstreamRef
    ? `build it locally with \`npx wsbench setup --tests\` (scripts/build-local-images.sh), or \`docker pull ${upstreamRef} && docker tag ${upstreamRef} ${ref}\`, or name another image with ${flag}`
    : `build it locally with scripts/build-local-images.sh, pull it with \`docker pull ${ref}\`, or name another image with ${flag}`;
  const first = await imagePresent(client, ref);
  if (first.present) return first.id!;
  if (policy === 'never') throw new WsbenchError('WSB_IMAGE_MISSING', `image ${ref} is not present locally and --docker-pull is never`, { hint });
  // A default (wsbench's own name) is the official image under that name: pulled, then tagged.
  const upstream = upstreamOf(ref);
  const source = upstream ?? ref;
  log(`pulling ${source}`);
  let pullError = '';
  try {
    await client.image.pull(ImageName.fromString(source), { force: false, platform: undefined });
    if (upstream) {
      const name = ImageName.fromString(ref);
      await client.container.dockerode.getImage(upstream).tag({ repo: name.registry ? `${name.registry}/${name.image}` : name.image, tag: name.tag });
    }
  } catch (e) {
    pullError = `${upstream ? ` (from ${upstream})` : ''}: ${e instanceof Error ? e.message : String(e)}`;
  }
  const after = await imagePresent(client, ref);
  if (!after.present) throw new WsbenchError('WSB_IMAGE_MISSING', `image ${ref} is not present locally and could not be pulled${pullError}`, { hint });
  return after.id!;
}

export interface LabelledContainer {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
}

/** Containers (any state) carrying `label` (`key` or `key=value`). */
export async function listLabelled(client: ContainerRuntimeClient, label: string): Promise<LabelledContainer[]> {
  const list = await client.container.dockerode.listContainers({ all: true, filters: { label: [label] } });
  return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), state: c.State, labels: c.Labels ?? {} }));
}

/** Force-removes every container (and network) labelled with this run id; resolves with what it removed. */
export async function removeRun(client: ContainerRuntimeClient, runId: string): Promise<string[]> {
  const removed: string[] = [];
  const errors: string[] = [];
  for (const c of await listLabelled(client, `${LABELS.run}=${runId}`)) {
    try {
      await client.container.dockerode.getContainer(c.id).remove({ force: true, v: true });
      removed.push(c.name);
    } catch (e) {
      // Removal already in progress (another teardown) or gone: both end the same way.
      if (!(e instanceof Error && /no such container|already in progress|404|409/i.test(e.message))) errors.push(`${c.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const networks = await client.container.dockerode.listNetworks({ filters: { label: [`${LABELS.run}=${runId}`] } });
  for (const n of networks) {
    try {
      await client.container.dockerode.getNetwork(n.Id).remove();
      removed.push(`network ${n.Name}`);
    } catch (e) {
      if (!(e instanceof Error && /no such network|404/i.test(e.message))) errors.push(`network ${n.Name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (errors.length) throw new Error(`removing the containers of run ${runId}: ${errors.join('; ')}`);
  return removed;
}
