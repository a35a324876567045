// ---------------------------------------------------------------------------------------------
// wsbench example: seed 000's "Usage Example" (scaling-usage.js), run as one node of a cluster.
//
//   PORT=3001 REDIS_URL=redis://127.0.0.1:6379 JWT_SECRET=… node examples/seed-000/server.js
//
// The seed's code is websocket-scaling-server.js beside this file, unchanged. What this file adds
// to the seed's usage example, and why (nothing else differs):
//   - port, Redis and node id from the environment (PORT, REDIS_URL, NODE_ID: how wsbench starts
//     each node); the seed's own values (3001, localhost:6379) when unset;
//   - enableClustering: false — wsbench runs one process per node and puts its NGINX in front; the
//     seed's cluster master forks os.cpus() workers behind its own sticky balancer, whose
//     `require('net')` / `require('farmhash')` cannot run in an ES module anyway;
//   - jwtSecret from JWT_SECRET — the seed's middleware verifies every token with
//     `this.config.jwtSecret`, which its usage example never sets (every token would be refused);
//   - authRequired from AUTH_REQUIRED=true — the seed's middleware reads it, its usage leaves it
//     unset (a connection without a token is let in);
//   - the seed's own `config.rateLimit` from RATE_LIMIT_MAX_REQUESTS / RATE_LIMIT_WINDOW_MS, so a
//     run can raise it; unset, the seed's 100 handshakes per 60000 ms per IP apply. Both fields are
//     always given: the seed's constructor ends with `...config`, which replaces its own
//     `rateLimit` defaults by whatever object is passed;
//   - SIGTERM / SIGINT → the seed's shutdown() (`server_shutdown` to the clients, then
//     `disconnect(true)` each), then exit: the seed defines shutdown() but its usage never calls it.
// ---------------------------------------------------------------------------------------------
import { createScalableWebSocketServer } from './websocket-scaling-server.js';

function redisFromUrl(url) {
    if (!url) return { host: 'localhost', port: 6379 };
    const u = new URL(url);
    return {
        host: u.hostname || 'localhost',
        port: Number(u.port) || 6379,
        ...(u.password ? { password: decodeURIComponent(u.password) } : {})
    };
}

function envConfig() {
    const env = process.env;
    const config = {
        port: Number(env.PORT) || 3001,
        workers: 4,
        redis: redisFromUrl(env.REDIS_URL),
        enableStickySessions: true,
        maxConnectionsPerWorker: 10000,
        enableClustering: false
    };
    if (env.JWT_SECRET) config.jwtSecret = env.JWT_SECRET;
    if (env.AUTH_REQUIRED === 'true') config.authRequired = true;
    if (env.RATE_LIMIT_MAX_REQUESTS || env.RATE_LIMIT_WINDOW_MS) {
        config.rateLimit = {
            windowMs: Number(env.RATE_LIMIT_WINDOW_MS) || 60000,
            maxRequests: Number(env.RATE_LIMIT_MAX_REQUESTS) || 100
        };
    }
    return config;
}

async function main() {
    const server = createScalableWebSocketServer(envConfig());
    
    await server.initialize();
    console.log(`node ${process.env.NODE_ID || process.pid} ready`);
    
    // Monitor metrics
    server.on('metrics_updated', (metrics) => {
        console.log('Global metrics:', metrics);
    });
    
    // Handle errors
    server.on('error', ({ context, error }) => {
        console.error(`Error in ${context}:`, error);
    });

    let stopping = false;
    for (const signal of ['SIGTERM', 'SIGINT']) {
        process.on(signal, () => {
            if (stopping) return;
            stopping = true;
            server.shutdown().then(
                () => process.exit(0),
                (error) => { console.error('shutdown failed:', error); process.exit(1); }
            );
        });
    }
}

main();
