// A ws + Redis pub/sub cluster node as a user might write one (test fixture for protocol profiles,
// issue 14): the token as `Authorization: Bearer <jwt>` (HS256, JWT_SECRET) checked at the upgrade,
// or in a first frame `{"type":"auth","token":…}`;
// `{"type":"hello","node":…}` first; `{"type":"join","room":…}` → `{"type":"joined","room":…}`;
// `{"type":"publish","room":…,"payload":"<text>"}` → every member on every node gets
// `{"type":"message","room":…,"data":{"payload":"<text>"}}`.
// PORT, REDIS_URL, NODE_ID, JWT_SECRET from the environment.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';

const port = Number(process.env.PORT);
const nodeId = process.env.NODE_ID;
const secret = new TextEncoder().encode(process.env.JWT_SECRET);
const http = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', nodeId }));
    return;
  }
  res.writeHead(404).end();
});
const pub = new Redis(process.env.REDIS_URL);
const sub = pub.duplicate();
const rooms = new Map();
await sub.subscribe('rooms');
sub.on('message', (_ch, text) => {
  const { room, payload } = JSON.parse(text);
  const frame = JSON.stringify({ type: 'message', room, data: { payload } });
  for (const ws of rooms.get(room) ?? []) ws.send(frame);
});
const wss = new WebSocketServer({ noServer: true });
// Without an Authorization header, the first frame must be `{"type":"auth","token":…}` (checked
// before anything else is answered; a bad one closes with 4001).
http.on('upgrade', async (req, socket, head) => {
  const header = req.headers.authorization;
  if (header !== undefined) {
    try {
      await jwtVerify(String(header).replace(/^Bearer /, ''), secret);
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    let authed = header !== undefined;
    if (authed) ws.send(JSON.stringify({ type: 'hello', node: nodeId }));
    ws.on('message', async (raw) => {
      let m;
      try {
        m = JSON.parse(String(raw));
      } catch {
        return;
      }
      if (!authed) {
        try {
          if (m.type !== 'auth') throw new Error('auth first');
          await jwtVerify(String(m.token), secret);
          authed = true;
          ws.send(JSON.stringify({ type: 'hello', node: nodeId }));
        } catch {
          ws.close(4001, 'unauthorized');
        }
        return;
      }
      if (m.type === 'join' && typeof m.room === 'string') {
        if (!rooms.has(m.room)) rooms.set(m.room, new Set());
        rooms.get(m.room).add(ws);
        ws.send(JSON.stringify({ type: 'joined', room: m.room }));
      } else if (m.type === 'publish') {
        pub.publish('rooms', JSON.stringify({ room: m.room, payload: m.payload }));
      }
    });
    ws.on('close', () => {
      for (const s of rooms.values()) s.delete(ws);
    });
  });
});
http.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => {
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
