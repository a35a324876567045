import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, getFreePortBelowEphemeral } from './ports.js';

describe('getFreePortBelowEphemeral', () => {
  it('returns a bindable port below the kernel ephemeral range, so no outgoing connection can take it', async () => {
    const [lo, hi] = ephemeralPortRange();
    expect(lo).toBeLessThanOrEqual(hi);
    const port = await getFreePortBelowEphemeral();
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(lo);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => srv.close(r));
  });
});
