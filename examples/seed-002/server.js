// server.js — seed 002's "Quick Start" (`setupScalableWebSockets`) with its environment variables.
//
//   WS_PORT=3001 INSTANCE_ID=instance-1 REDIS_HOST=localhost REDIS_PORT=6379 JWT_SECRET=… node server.js
//
// wsbench example (see redis-pubsub.js for what comes from seed 002). Added to run it as a wsbench
// node: when the seed's variables (WS_PORT, INSTANCE_ID, REDIS_HOST/REDIS_PORT) are unset, wsbench's
// PORT, NODE_ID and REDIS_URL are read instead; SIGTERM / SIGINT stop it gracefully.
import { ScalableWebSocketManager } from './websocket-manager.js';

function redisConfig(env) {
  if (!env.REDIS_HOST && env.REDIS_URL) {
    const u = new URL(env.REDIS_URL);
    return { host: u.hostname, port: Number(u.port) || 6379, password: u.password ? decodeURIComponent(u.password) : undefined };
  }
  return {
    host: env.REDIS_HOST || 'localhost',
    port: Number(env.REDIS_PORT) || 6379,
    password: env.REDIS_PASSWORD || undefined,
    db: Number(env.REDIS_DB) || 0,
    pubsubDb: env.REDIS_PUBSUB_DB !== undefined ? Number(env.REDIS_PUBSUB_DB) : undefined,
  };
}

export async function setupScalableWebSockets(port, env = process.env) {
  const manager = new ScalableWebSocketManager({
    port,
    host: env.WS_HOST || '0.0.0.0',
    maxConnections: Number(env.WS_MAX_CONNECTIONS) || 1000,
    jwtSecret: env.JWT_SECRET,
    scaling: {
      instanceId: env.INSTANCE_ID || env.NODE_ID,
      redis: redisConfig(env),
      heartbeatInterval: Number(env.HEARTBEAT_INTERVAL) || 30000,
      cleanupInterval: Number(env.CLEANUP_INTERVAL) || 60000,
      inactiveThreshold: Number(env.INACTIVE_THRESHOLD) || 120000,
    },
  });
  await manager.start();
  return manager;
}

const port = Number(process.env.WS_PORT || process.env.PORT) || 3001;
const manager = await setupScalableWebSockets(port);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    manager.shutdown().then(() => process.exit(0), (error) => { console.error('shutdown failed:', error); process.exit(1); });
  });
}
