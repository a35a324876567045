// A Socket.IO cluster node as a user might write one (test fixture for protocol profiles, issue 14):
// the token in the `access_token` query parameter (HS256, JWT_SECRET), `join_room` (roomId, callback)
// answered `{ success }`, `broadcast` (roomId, text) → every member gets `room_message { room, body }`.
// No welcome: it never says which node it is. `broadcast_echo` also sends the message back to its sender.
// PORT, REDIS_URL, NODE_ID, JWT_SECRET from the environment.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';

const port = Number(process.env.PORT);
const secret = new TextEncoder().encode(process.env.JWT_SECRET);
const http = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', nodeId: process.env.NODE_ID }));
    return;
  }
  res.writeHead(404).end();
});
const pub = new Redis(process.env.REDIS_URL);
const sub = pub.duplicate();
const io = new Server(http, { adapter: createAdapter(pub, sub) });
io.use(async (socket, next) => {
  try {
    const { payload } = await jwtVerify(String(socket.handshake.query.access_token ?? ''), secret);
    socket.data.user = payload.sub;
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});
// KICK_NODE / KICK_AFTER_MS: that node disconnects every client of its own (`socket.disconnect(true)`,
// "io server disconnect" at the client) once, KICK_AFTER_MS after the first broadcast it relays.
let kickTimer;
const kickArm = () => {
  if (kickTimer !== undefined || process.env.KICK_NODE !== process.env.NODE_ID) return;
  kickTimer = setTimeout(() => io.local.disconnectSockets(true), Number(process.env.KICK_AFTER_MS ?? 1000));
};
io.on('connection', (socket) => {
  socket.on('join_room', async (roomId, callback) => {
    if (typeof roomId !== 'string' || roomId.startsWith('forbidden')) return callback?.({ success: false, error: 'forbidden' });
    await socket.join(roomId);
    callback?.({ success: true, room: roomId });
  });
  socket.on('broadcast', (roomId, body) => {
    kickArm();
    io.to(roomId).emit('room_message', { room: roomId, body });
  });
  // Only a member may broadcast, to the others (seed 000's handleRoomBroadcast: `Not in room`, `socket.to`).
  socket.on('broadcast_members', (roomId, body) => {
    if (!socket.rooms.has(roomId)) return socket.emit('error_message', { message: 'Not in room' });
    socket.to(roomId).emit('room_message', { room: roomId, body });
  });
  // The same, sent back to its sender too (a server that echoes).
  socket.on('broadcast_echo', (roomId, body) => {
    io.to(roomId).emit('room_message', { room: roomId, body });
    socket.emit('room_message', { room: roomId, body });
  });
});
http.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => {
  io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
