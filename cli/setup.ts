import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { WsbenchError } from '../common/errors.js';
import { packageRoot } from '../common/paths.js';
import { REQUIRED_BINARIES, findBinary } from '../common/binaries.js';
import { DOCKER_IMAGE_DEFAULTS } from '../config/defaults.js';

export interface SetupIO {
  stdout: NodeJS.WritableStream;
}

/**
 * Installs what the local driver needs and the machine lacks (redis-server and nginx through the
 * OS package manager, like Playwright's `install --with-deps`), saying what it will run first.
 * With `check` it only reports.
 */
export function setup(io: SetupIO, opts: { check?: boolean; tests?: boolean } = {}): number {
  const code = setupRuntime(io, opts);
  if (code !== 0 || !opts.tests) return code;
  return setupTests(io, opts);
}

/**
 * What wsbench's own test suite needs beyond the local driver: a Docker engine (Debian's docker.io,
 * `dockerd --bridge=none --iptables=false`, host networking only) with the docker driver's images
 * built from this machine's binaries (no registry is needed), Debian's chromium for the test
 * that opens the HTML report in a real browser, and Debian's tshark for the wire cross-check
 * (`wsbench calibrate --wire`).
 */
function setupTests(io: SetupIO, opts: { check?: boolean }): number {
  const say = (s: string) => io.stdout.write(`${s}\n`);
  const chromium = ['chromium', 'chromium-browser'].find((b) => findBinary(b));
  say(`${chromium ? 'ok     ' : 'missing'} chromium (the HTML report test)`);
  const engine = spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
  say(`${engine ? 'ok     ' : 'missing'} a running Docker engine (the docker driver tests)`);
  const tshark = findBinary('tshark') && findBinary('dumpcap');
  say(`${tshark ? 'ok     ' : 'missing'} tshark and dumpcap (the wire cross-check of wsbench calibrate --wire)`);
  if (opts.check) return chromium && engine && tshark ? 0 : 1;
  const root = packageRoot();
  const steps: Array<{ what: string; cmd: string[] }> = [];
  if (!chromium || !tshark) steps.push({ what: 'refresh the package lists', cmd: ['apt-get', 'update'] });
  if (!chromium) steps.push({ what: 'install chromium', cmd: ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', 'chromium'] });
  // tshark asks whether non-root users may capture (wireshark-common/install-setuid): answered "no" up front.
  if (!tshark) {
    steps.push({
      what: 'install tshark (wire cross-check)',
      cmd: ['bash', '-c', "echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark"],
    });
  }
  if (!engine) steps.push({ what: 'install docker.io if missing and start dockerd --bridge=none --iptables=false', cmd: ['bash', join(root, 'scripts/start-docker-engine.sh')] });
  steps.push({ what: "build the docker driver's images from this machine's binaries (only the missing ones)", cmd: ['env', `WSB_REDIS_IMAGE=${DOCKER_IMAGE_DEFAULTS.redis}`, `WSB_NGINX_IMAGE=${DOCKER_IMAGE_DEFAULTS.nginx}`, `WSB_NODE_IMAGE=${DOCKER_IMAGE_DEFAULTS.node}`, 'bash', join(root, 'scripts/build-local-images.sh')] });
  say('wsbench setup --tests will:');
  for (const s of steps) say(`  - ${s.what}: $ ${s.cmd.join(' ')}`);
  for (const s of steps) {
    const r = spawnSync(s.cmd[0], s.cmd.slice(1), { stdio: ['ignore', s.cmd[1] === join(root, 'scripts/start-docker-engine.sh') ? 'ignore' : 'inherit', 'inherit'] });
    if (r.status !== 0) {
      throw new WsbenchError('WSB_SETUP_FAILED', `\`${s.cmd.join(' ')}\` exited with ${r.status ?? r.signal}`, { hint: 'run it by hand as root to see why' });
    }
  }
  say('test setup complete: chromium, tshark, a Docker engine and the local images are ready');
  return 0;
}

function setupRuntime(io: SetupIO, opts: { check?: boolean }): number {
  const say = (s: string) => io.stdout.write(`${s}\n`);
  const missing = Object.keys(REQUIRED_BINARIES).filter((b) => !findBinary(b));
  for (const b of Object.keys(REQUIRED_BINARIES)) say(`${findBinary(b) ? 'ok     ' : 'missing'} ${b}${findBinary(b) ? ` (${findBinary(b)})` : ''}`);
  if (missing.length === 0) {
    say('everything the local driver needs is installed');
    return 0;
  }
  const packages = [...new Set(missing.map((b) => REQUIRED_BINARIES[b]))];
  if (opts.check) {
    say(`missing: ${packages.join(', ')} — run \`npx wsbench setup\` to install`);
    return 1;
  }
  if (!findBinary('apt-get')) {
    throw new WsbenchError('WSB_SETUP_FAILED', `cannot install ${packages.join(', ')}: apt-get not found (wsbench setup supports Debian/Ubuntu)`, {
      hint: `install ${packages.join(' and ')} with your package manager, then run wsbench again`,
    });
  }
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : ['sudo', '-n'];
  if (!root && !findBinary('sudo')) {
    throw new WsbenchError('WSB_SETUP_FAILED', `installing ${packages.join(', ')} needs root, and sudo is not available`, {
      hint: `as root: apt-get update && apt-get install -y ${packages.join(' ')}`,
    });
  }
  const steps: string[][] = [
    [...sudo, 'apt-get', 'update'],
    [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', ...packages],
  ];
  say(`wsbench setup will install ${packages.join(', ')} with the OS package manager:`);
  for (const s of steps) say(`  $ ${s.join(' ')}`);
  for (const s of steps) {
    const r = spawnSync(s[0], s.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      throw new WsbenchError('WSB_SETUP_FAILED', `\`${s.join(' ')}\` exited with ${r.status ?? r.signal}`, {
        hint: root ? 'see the apt output above' : 'run `sudo npx wsbench setup`, or install the packages yourself',
      });
    }
  }
  const still = Object.keys(REQUIRED_BINARIES).filter((b) => !findBinary(b));
  if (still.length) throw new WsbenchError('WSB_SETUP_FAILED', `still missing after install: ${still.join(', ')}`, { hint: 'install them yourself and put them on PATH' });
  say('setup complete: redis-server and nginx are installed (wsbench starts its own instances on free ports; it does not use the system services)');
  return 0;
}
