/**
 * Source address for the i-th client connection, in 127.0.0.0/8. NGINX's `ip_hash` hashes only
 * the first three octets of an IPv4 address, so the third octet varies fastest (127.0.1.1,
 * 127.0.2.1, … 127.0.250.1, then 127.0.1.2, …); it also spreads connections past the 28,232
 * ephemeral ports available per source/destination pair.
 */
export const THIRD_OCTETS = 250;

export function sourceAddressFor(i: number): string {
  const third = 1 + (i % THIRD_OCTETS);
  const fourth = 1 + (Math.floor(i / THIRD_OCTETS) % 250);
  return `127.0.${third}.${fourth}`;
}

/** Whether `hostname` is loopback (127.0.0.0/8, ::1, localhost): only those are reachable from the 127.0.x.y source addresses. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
