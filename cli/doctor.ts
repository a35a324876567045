import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isWsbenchError } from '../common/errors.js';
import { packageRoot } from '../common/paths.js';
import { REQUIRED_BINARIES, findBinary } from '../common/binaries.js';
import { DOCKER_DEFAULTS, upstreamOf, type DockerDriverOptions, type DockerImages } from '../cluster/docker-options.js';

export interface DoctorIO {
  stdout: NodeJS.WritableStream;
}

/** One check: what was looked at, whether it is fine, and what to do when it is not. */
interface Check {
  ok: boolean;
  what: string;
  fix?: string;
}

function versionOf(cmd: string, args: string[], re: RegExp): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  return re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1];
}

function localChecks(): Check[] {
  const checks: Check[] = [];
  for (const bin of Object.keys(REQUIRED_BINARIES)) {
    const p = findBinary(bin);
    const version = p ? versionOf(p, bin === 'nginx' ? ['-v'] : ['--version'], bin === 'nginx' ? /nginx\/(\S+)/ : /v=(\S+)/) : undefined;
    checks.push(
      p
        ? { ok: true, what: `${bin} ${version ?? ''} (${p})`.replace('  ', ' ') }
        : { ok: false, what: `${bin} not found on PATH or in /usr/sbin`, fix: `npx wsbench setup (installs ${REQUIRED_BINARIES[bin]})` },
    );
  }
  checks.push(builtCheck());
  return checks;
}

function builtCheck(): Check {
  const entry = join(packageRoot(), 'dist', 'reference-server', 'main.js');
  return existsSync(entry) ? { ok: true, what: `reference server built (${entry})` } : { ok: false, what: `reference server not built (${entry} missing)`, fix: 'npm run build' };
}

async function dockerChecks(opts: DockerDriverOptions): Promise<{ checks: Check[]; network?: string }> {
  // Loaded only here, as in `wsbench run --driver docker`.
  const { connectEngine, chooseNetworkMode, imagePresent } = await import('../cluster/docker-engine.js');
  const checks: Check[] = [];
  let engine;
  try {
    engine = await connectEngine(5000);
  } catch (e) {
    checks.push({ ok: false, what: isWsbenchError(e) ? e.message : String(e), fix: 'start the Docker engine (dockerd), or set DOCKER_HOST; `docker info` must answer' });
    return { checks };
  }
  checks.push({ ok: true, what: `Docker engine ${engine.serverVersion} (${engine.operatingSystem}${engine.rootless ? ', rootless' : ''})` });
  const net = chooseNetworkMode(opts.network, { platform: process.platform, ...engine });
  for (const [component, ref] of Object.entries(opts.images)) {
    const flag = `--${component}-image`;
    // A default (wsbench's own name) is the official image, pulled under that name and tagged.
    const upstream = upstreamOf(ref);
    try {
      const img = await imagePresent(engine.client, ref);
      checks.push(
        img.present
          ? { ok: true, what: `image ${ref} present${img.localBuild ? ' (built from this machine by scripts/build-local-images.sh)' : ''}` }
          : {
              ok: false,
              what: upstream
                ? `image ${ref} not present locally: a run pulls ${upstream} and tags it ${ref} (needs registry access)`
                : `image ${ref} not present locally: a run pulls it from its registry (needs registry access)`,
              fix: upstream
                ? `\`npx wsbench setup --tests\` (scripts/build-local-images.sh) builds it without a registry; or \`docker pull ${upstream} && docker tag ${upstream} ${ref}\`; or name another with ${flag}`
                : `scripts/build-local-images.sh builds it without a registry; or \`docker pull ${ref}\`; or name another with ${flag}`,
            },
      );
    } catch (e) {
      checks.push({ ok: false, what: `image ${ref}: ${(e as Error).message}` });
    }
  }
  checks.push(builtCheck());
  return { checks, network: `${net.mode} networking (${net.why})` };
}

function print(io: DoctorIO, title: string, checks: Check[], extra?: string): boolean {
  const ready = checks.every((c) => c.ok);
  io.stdout.write(`${title}: ${ready ? 'can run here' : 'cannot run here'}${extra ? ` — ${extra}` : ''}\n`);
  for (const c of checks) {
    io.stdout.write(`  ${c.ok ? 'ok     ' : 'missing'} ${c.what}\n`);
    if (!c.ok && c.fix) io.stdout.write(`          fix: ${c.fix}\n`);
  }
  return ready;
}

/**
 * `wsbench doctor`: says which cluster drivers can run on this machine and, for each that cannot,
 * why and what to do. Asks no registry: an image that is not present locally is reported as
 * such. Resolves with the exit code: 0 when every driver asked about can run, 1 otherwise.
 */
export async function doctor(
  io: DoctorIO,
  opts: { driver?: 'local' | 'docker'; docker?: { images?: Partial<DockerImages>; network?: DockerDriverOptions['network'] } } = {},
): Promise<number> {
  const docker: DockerDriverOptions = {
    ...DOCKER_DEFAULTS,
    ...(opts.docker?.network ? { network: opts.docker.network } : {}),
    images: { ...DOCKER_DEFAULTS.images, ...(opts.docker?.images ?? {}) },
  };
  let ok = true;
  if (opts.driver !== 'docker') ok = print(io, 'local driver (--driver local)', localChecks()) && ok;
  if (opts.driver !== 'local') {
    const d = await dockerChecks(docker);
    ok = print(io, 'docker driver (--driver docker)', d.checks, d.network) && ok;
  }
  return ok ? 0 : 1;
}
