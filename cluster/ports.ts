import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Asks the kernel for a free TCP port on `host`. The port is released before returning. */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on host:port. */
export function isPortInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(true));
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}

/** The kernel's range for ephemeral ports (outgoing connections, listen(0)); Linux default 32768–60999. */
export function ephemeralPortRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

/**
 * A free port *below* the ephemeral range, tried at random. A port from `getFreePort()` is an
 * ephemeral one, which any outgoing connection on the machine (a load generator opens thousands)
 * may take before the process it is meant for binds it; the docker driver's containers take long
 * enough to start for that to happen. Ports below the range are only ever taken by listeners.
 */
export async function getFreePortBelowEphemeral(host = '127.0.0.1', tries = 50): Promise<number> {
  const [lo] = ephemeralPortRange();
  const floor = 10_000;
  if (lo - floor < 1000) return getFreePort(host);
  for (let i = 0; i < tries; i++) {
    const port = floor + Math.floor(Math.random() * (lo - floor));
    if (!(await isPortInUse(port, host))) return port;
  }
  return getFreePort(host);
}
