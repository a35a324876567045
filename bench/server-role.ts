/**
 * The bench's server roles: a `ws` server and a socket.io 4 server, each in its own process,
 * broadcasting `{room, payload:{pub, seq, t, n}}` to one room at a time at a fixed rate.
 *
 * `ws`: a client on `/` (bare ws) is dealt round-robin into a room and gets the object itself as
 * a frame; a client on `/ws` (wsbench's JSON-frame client) speaks the reference JSON wire
 * (reference-server/json-wire.ts): `welcome` on connect, `join` answered by an `ack`, messages as
 * `{type:'msg', data}`. `sio`: a client with a token in its auth (wsbench's lean client) gets
 * `welcome` and joins by an acked `join`, as the reference server does; one without
 * (socket.io-client) is dealt round-robin. The server checks no JWT: its share is not measured.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowUs } from '../common/clock.js';
import { send, type ServerKind } from './config.js';

const NODE_ID = 'node-1';

function payloadOf(r: number, seq: number[]): { room: string; payload: { pub: number; seq: number; t: number; n: string } } {
  return { room: `r${r}`, payload: { pub: r, seq: seq[r]++, t: nowUs(), n: `node-${1 + (r % 3)}` } };
}

export async function serverRole(kind: ServerKind, rooms: number, pingMs: number | undefined): Promise<void> {
  const http = createServer();
  const seq = new Array<number>(rooms).fill(0);
  let dealt = 0;
  let pings = 0;
  let broadcast: (r: number) => number; // returns deliveries sent

  if (kind === 'ws') {
    const { WebSocketServer, WebSocket } = await import('ws');
    type WS = import('ws').WebSocket;
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: pingMs !== undefined });
    const bare: Array<Set<WS>> = Array.from({ length: rooms }, () => new Set());
    const json: Array<Set<WS>> = Array.from({ length: rooms }, () => new Set());
    const noop = () => undefined;
    const welcome = JSON.stringify({ type: 'welcome', data: { nodeId: NODE_ID, sid: 'bench' } });
    wss.on('connection', (ws, req) => {
      ws.on('error', noop);
      if (req.url?.startsWith('/ws') !== true) {
        const room = bare[dealt++ % rooms];
        room.add(ws);
        ws.on('close', () => room.delete(ws));
        return;
      }
      let joined: Set<WS> | null = null;
      ws.on('message', (data) => {
        const f = JSON.parse(String(data)) as { type?: string; id?: number; data?: { room?: string } };
        if (f.type !== 'join' || joined !== null) return;
        const r = Number(f.data?.room?.slice(1));
        joined = json[r] ?? null;
        joined?.add(ws);
        ws.send(JSON.stringify({ type: 'ack', id: f.id, data: joined === null ? { ok: false, error: 'bad_request' } : { ok: true, nodeId: NODE_ID, members: joined.size } }));
      });
      ws.on('close', () => joined?.delete(ws));
      ws.send(welcome);
    });
    if (pingMs !== undefined) {
      setInterval(() => {
        for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.ping();
      }, pingMs).unref();
    }
    broadcast = (r) => {
      const d = payloadOf(r, seq);
      let n = 0;
      if (bare[r].size > 0) {
        const frame = Buffer.from(JSON.stringify(d));
        for (const ws of bare[r]) ws.send(frame, { binary: false });
        n += bare[r].size;
      }
      if (json[r].size > 0) {
        const frame = Buffer.from(JSON.stringify({ type: 'msg', data: d }));
        for (const ws of json[r]) ws.send(frame, { binary: false });
        n += json[r].size;
      }
      return n;
    };
  } else {
    const { Server } = await import('socket.io');
    const io = new Server(http, { transports: ['websocket'], serveClient: false, ...(pingMs !== undefined ? { pingInterval: pingMs, pingTimeout: 20_000 } : {}) });
    // Engine.IO pings (default every 25 s per connection; they come in a burst, one per connection
    // of a connect storm): counted, so a CPU window that caught the pongs can be told apart.
    io.engine.on('connection', (socket: { on(ev: 'packetCreate', fn: (p: { type: string }) => void): void }) =>
      socket.on('packetCreate', (p) => {
        if (p.type === 'ping') pings++;
      }),
    );
    io.on('connection', (socket) => {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      if (typeof auth?.token !== 'string') {
        void socket.join(`r${dealt++ % rooms}`);
        return;
      }
      socket.on('join', (d: { room?: string } | undefined, ack?: (v: unknown) => void) => {
        const room = d?.room;
        if (typeof room !== 'string') return ack?.({ ok: false, error: 'bad_request' });
        void socket.join(room);
        ack?.({ ok: true, nodeId: NODE_ID, members: io.sockets.adapter.rooms.get(room)?.size ?? 0 });
      });
      socket.emit('welcome', { nodeId: NODE_ID, sid: socket.id });
    });
    broadcast = (r) => {
      const d = payloadOf(r, seq);
      io.to(d.room).emit('msg', d);
      return io.sockets.adapter.rooms.get(d.room)?.size ?? 0;
    };
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  send({ type: 'listening', port: (http.address() as AddressInfo).port });

  let timer: NodeJS.Timeout | undefined;
  let sent = 0; // deliveries
  let nextRoom = 0;
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  process.on('message', (msg: { type: string; rate?: number }) => {
    switch (msg.type) {
      case 'fixed': {
        // One room broadcast every 1/rate s; a late timer catches up (the offered rate holds).
        stop();
        const intervalUs = 1e6 / msg.rate!;
        const start = nowUs();
        let done = 0;
        timer = setInterval(() => {
          const due = Math.floor((nowUs() - start) / intervalUs) + 1;
          for (; done < due; done++) {
            sent += broadcast(nextRoom);
            nextRoom = (nextRoom + 1) % rooms;
          }
        }, 1);
        return;
      }
      case 'sweep': {
        // One broadcast to every room (the memory checkpoints): how many deliveries it made.
        let n = 0;
        for (let r = 0; r < rooms; r++) n += broadcast(r);
        sent += n;
        send({ type: 'swept', deliveries: n });
        return;
      }
      case 'stop':
        stop();
        send({ type: 'stopped', sent });
        return;
      case 'mark': {
        const cpu = process.cpuUsage();
        send({ type: 'mark', sent, pings, atUs: nowUs(), cpuUs: cpu.user + cpu.system });
        return;
      }
    }
  });
}
