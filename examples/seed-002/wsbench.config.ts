// wsbench config for seed 002's ws + Redis pub/sub server (server.js beside this file).
//
//   npx wsbench run cross-node-broadcast --config examples/seed-002/wsbench.config.ts
//
// Each node is `node server.js`; it reads the seed's WS_PORT / INSTANCE_ID / REDIS_HOST and falls
// back to wsbench's PORT / NODE_ID / REDIS_URL. The server announces no node id: the same-node /
// cross-node split comes from NGINX's upstream header.
import { defineConfig } from 'wsbench';

const JWT_SECRET = process.env.SEED002_JWT_SECRET ?? 'seed-002-example-secret';

/** The image of this example (Dockerfile beside this file), when set: the nodes run it (docker driver). */
const IMAGE = process.env.WSBENCH_SERVER_IMAGE;

export default defineConfig({
  nodes: 3,
  ...(IMAGE ? { driver: 'docker' as const } : {}),
  server: {
    ...(IMAGE ? { image: IMAGE } : { command: 'node server.js' }),
    env: { JWT_SECRET },
    // Seed 002, "Health Endpoints": GET /health → {"status":"healthy", …}.
    ready: { http: '/health' },
    stop: { signal: 'SIGTERM', timeoutMs: 10000 },
    // Seed 002, "Prometheus Metrics": tableforge_websocket_connections_total{instance_id="…"}.
    metrics: '/metrics',
  },
  protocol: {
    wire: 'json',
    path: '/',
    // ws://host/?token=<JWT>: HS256, `userId` claim.
    auth: { in: 'query', name: 'token', jwt: { alg: 'HS256', secret: JWT_SECRET, claims: { userId: '{user}' }, expiresInS: 3600 } },
    welcome: false,
    join: { frame: { type: 'join_room', roomId: '{room}' }, reply: { match: { type: 'room_joined' } } },
    // The manager refuses a room_message from a non-member: the publisher joins first.
    publish: { frame: { type: 'room_message', roomId: '{room}', data: '{payload}' }, payloadAs: 'object', join: true },
    // "Each instance delivers to local connections": the sender gets its own message back.
    receive: { match: { type: 'room_message' }, stampPath: 'data', roomPath: 'roomId', echo: true },
    // Seed 002, "Error Handling": "Use retry logic with exponential backoff".
    reconnect: { initialMs: 1000, maxMs: 30000, factor: 2, jitter: 'none' },
  },
  targets: {
    // Seed 002, "Performance Characteristics": "Latency: Sub-100ms cross-instance message delivery".
    'cross-instance-latency': {
      metric: 'metrics.broadcast_latency_cross_node_ms.p99',
      max: 100,
      unit: 'ms',
      description: 'p99 cross-instance delivery under 100 ms (seed 002)',
    },
  },
  runs: {
    'cross-node-broadcast': {
      scenario: 'cross-node-broadcast',
      options: { connections: 600, rooms: 20, rate: 8, warmup: 2, duration: 8, drain: 2 },
    },
  },
});
