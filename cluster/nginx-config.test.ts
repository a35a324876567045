import { describe, expect, it } from 'vitest';
import { nginxSizing, renderNginxConfig } from './nginx-config.js';

describe('nginx config', () => {
  it('sizes workers from the connection count: two descriptors per proxied connection under a 20,000-file limit', () => {
    expect(nginxSizing(1240, 20_000).workers).toBe(1);
    const big = nginxSizing(20_000, 20_000);
    expect(big.workers).toBe(3);
    expect(big.workers * big.workerConnections).toBeGreaterThanOrEqual(2 * 20_000);
    expect(big.rlimit).toBeLessThanOrEqual(20_000);
    expect(big.workerConnections).toBeLessThan(big.rlimit);
  });

  it('renders the seed 001 proxy block with the chosen policy and every upstream', () => {
    const conf = renderNginxConfig({
      prefix: '/tmp/x',
      listenPort: 8080,
      upstreams: [
        { host: '127.0.0.1', port: 4001 },
        { host: '127.0.0.1', port: 4002 },
      ],
      policy: 'ip_hash',
      expectedConnections: 1000,
      fileLimit: 20_000,
      pingWindowMs: 85_000,
    });
    expect(conf).toContain('ip_hash;');
    expect(conf).toContain('server 127.0.0.1:4001');
    expect(conf).toContain('server 127.0.0.1:4002');
    expect(conf).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(conf).toMatch(/proxy_read_timeout (\d+)s;/);
    expect(Number(/proxy_read_timeout (\d+)s;/.exec(conf)![1])).toBeGreaterThan(85);
    expect(renderNginxConfig({ prefix: '/p', listenPort: 1, upstreams: [], policy: 'least_conn', expectedConnections: 1, fileLimit: 20_000, pingWindowMs: 1 })).toContain('least_conn;');
  });
});
