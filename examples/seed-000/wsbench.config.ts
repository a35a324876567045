// wsbench config for seed 000's Socket.IO cluster server (server.js beside this file).
//
//   npx wsbench run cross-node-broadcast --config examples/seed-000/wsbench.config.ts
//   npx wsbench run seed-defaults --config examples/seed-000/wsbench.config.ts   (the seed's own 100/min limit at work)
//   npx wsbench run node-kill --config examples/seed-000/wsbench.config.ts
//   npx wsbench run security-probes --config examples/seed-000/wsbench.config.ts   (the seed's security gaps)
//
// Each node is `node server.js` with PORT, REDIS_URL and NODE_ID from wsbench; the profile below is
// the seed's own protocol (docs/your-server.md walks through writing it).
import { defineConfig } from 'wsbench';

/** The secret the seed's JWT middleware verifies with (server.js reads JWT_SECRET); wsbench signs with it. */
const JWT_SECRET = process.env.SEED000_JWT_SECRET ?? 'seed-000-example-secret';

/** The seed's `config.rateLimit` (100 handshakes per 60000 ms per IP), raised for the runs that measure delivery. */
const RAISED = { RATE_LIMIT_MAX_REQUESTS: '1000000', RATE_LIMIT_WINDOW_MS: '60000' };

/**
 * The image of this example (Dockerfile beside this file), when set: every node runs it with the
 * docker driver instead of `node server.js` (the CI workflow sets it to the image it just built).
 */
const IMAGE = process.env.WSBENCH_SERVER_IMAGE;

/** One node: the seed's usage example with the environment wsbench gives it. */
function server(env: Record<string, string> = {}) {
  return {
    ...(IMAGE ? { image: IMAGE } : { command: 'node server.js' }),
    env: { JWT_SECRET, ...env },
    // websocket-scaling-server.js logs this once its HTTP server listens (Redis adapter set up before).
    ready: { log: 'listening on port' },
    // server.js runs the seed's shutdown() on SIGTERM: server_shutdown, then disconnect(true) each.
    stop: { signal: 'SIGTERM' as const, timeoutMs: 10000 },
  };
}

export default defineConfig({
  nodes: 3,
  ...(IMAGE ? { driver: 'docker' as const } : {}),
  server: server(RAISED),
  protocol: {
    wire: 'socketio',
    path: '/socket.io/',
    // socket.handshake.auth.token, verified with jwt.verify(token, jwtSecret); decoded.userId is the user.
    auth: {
      in: 'auth',
      name: 'token',
      jwt: { alg: 'HS256', secret: JWT_SECRET, claims: { userId: '{user}', permissions: ['room_broadcast'] }, expiresInS: 3600 },
    },
    // The seed announces no node: the node comes from NGINX's upstream header.
    welcome: false,
    // socket.on('join_room', (roomId, callback) => … callback({ success: true }) | callback({ success: false, error }))
    join: { event: 'join_room', args: ['{room}'], ack: true, okPath: 'success', ok: true },
    // socket.on('broadcast_room', (roomId, event, data) => socket.to(roomId).emit(event, data)): the
    // client names the event its room gets; the sender is left out (socket.to). handleRoomBroadcast
    // throws 'Not in room' unless the sender joined: the publisher joins first (join: true).
    publish: { event: 'broadcast_room', args: ['{room}', 'room_message', '{payload}'], payloadAs: 'object', join: true },
    receive: { event: 'room_message', stampPath: 'args[0]', echo: false },
    // The seed's client: socket.io-client with 10 tries, 1–5 s; on server_shutdown it reconnects only
    // when it was given several URLs.
    reconnect: 'seed-000',
  },
  targets: {
    // Seed 000: "maxConnectionsPerWorker: 10000", rateLimit 100 per 60000 ms — every client of the
    // run should be let in (the run's connections are far below 10,000 per node).
    'connections-accepted': {
      metric: 'counters.connect_failures',
      max: 0,
      unit: 'connections',
      description: 'every connection attempt accepted (seed 000: 10,000 connections per worker)',
    },
  },
  runs: {
    // The seed exactly as written: 100 handshakes per minute per IP. Behind NGINX every client
    // arrives from NGINX's address, so each node lets 100 in per minute; the seed's limiter (limiter
    // 1.x without fireImmediately) holds the rest until the next minute instead of refusing them,
    // so they fail as connect timeouts (capacity.failuresByCause in the report).
    'seed-defaults': {
      scenario: 'connection-capacity',
      server: server(),
      options: { connections: 400, connectRate: 400, hold: 1, connectTimeout: 5000 },
    },
    'cross-node-broadcast': {
      scenario: 'cross-node-broadcast',
      options: { connections: 600, rooms: 20, rate: 8, warmup: 2, duration: 8, drain: 2 },
    },
    'node-kill': {
      scenario: 'node-kill',
      options: { connections: 600, rooms: 20 },
    },
    'rolling-restart': {
      scenario: 'rolling-restart',
      options: { connections: 300, rooms: 10 },
    },
    // The probes speak the seed's profile (docs/security-probes.md, "Your own server"): bad tokens in
    // `auth.token`, joins through `join_room`, floods through `broadcast_room`. The handshake limit
    // is raised (the default server) so that what they find is not the limit at work.
    'security-probes': {
      scenario: 'security-probes',
      options: { connections: 24, rooms: 4, duration: 2, warmup: 0, drain: 1 },
    },
  },
});
