// websocket-manager.js — ScalableWebSocketManager: "Enhanced WebSocket server with scaling integration"
//
// wsbench example (see redis-pubsub.js for what comes from seed 002 and what is a reading of it).
// The client messages are JSON text frames with a `type`:
//   client → server   {type:'join_room', roomId}         → {type:'room_joined', roomId, members}
//                                                          | {type:'error', error, roomId}
//                     {type:'leave_room', roomId}        → {type:'room_left', roomId}
//                     {type:'room_message', roomId, data}  → every member of the room, on every
//                                                          instance, the sender included (seed 002:
//                                                          "Each instance delivers to local
//                                                          connections"), gets
//                                                          {type:'room_message', roomId, userId, data, timestamp}
//                     {type:'direct_message', toUserId, data} → {type:'direct_message', fromUserId, data}
//                     {type:'ping'}                      → {type:'pong', timestamp}
//   server → client   {type:'connected', connectionId, userId} first, after authentication
//                     {type:'user_joined'|'user_left', roomId, userId}
//                     {type:'server_shutdown'} before a graceful stop (then close 1001)
// Authentication: a JWT in the `token` query parameter (`ws://host/?token=…`), HS256 with
// JWT_SECRET; its `userId` (or `sub`) is the user. No token, a bad one: HTTP 401, no upgrade.
// Limits: WS_MAX_CONNECTIONS per instance (HTTP 503 beyond it); payloads over 64 KiB close 1009.
import { createServer } from 'http';
import { randomUUID } from 'crypto';
import { WebSocketServer } from 'ws';
import jwt from 'jsonwebtoken';
import { WebSocketScalingManager } from './redis-pubsub.js';

export class ScalableWebSocketManager {
  constructor(config = {}) {
    this.config = {
      port: config.port || 3001,
      host: config.host || '0.0.0.0',
      maxConnections: config.maxConnections || 1000,
      jwtSecret: config.jwtSecret,
      maxPayload: config.maxPayload || 65536,
      ...config,
    };
    this.scaling = new WebSocketScalingManager(config.scaling);
    this.connections = new Map(); // connectionId → { ws, userId, rooms }
    this.rooms = new Map(); // roomId → Set<connectionId>
    this.stats = { messagesSent: 0, messagesReceived: 0 };
    this.startedAt = Date.now();
  }

  async start() {
    await this.scaling.initialize();
    this.scaling.on('room_message', (roomId, message) => this.deliverToRoom(roomId, message));
    this.scaling.on('user_message', (userId, message) => this.deliverToUser(userId, message));
    this.scaling.on('global_message', (message) => this.deliverToAll(message));
    this.scaling.on('error', (error) => console.error('[scaling] error:', error));

    this.httpServer = createServer((req, res) => this.handleHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.config.maxPayload });
    this.httpServer.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
    await new Promise((resolve) => this.httpServer.listen(this.config.port, this.config.host, resolve));
    console.log(`WebSocket server ${this.scaling.instanceId} listening on ${this.config.host}:${this.config.port}`);
  }

  authenticate(req) {
    const url = new URL(req.url, 'http://localhost');
    const token = url.searchParams.get('token');
    if (!token) return null;
    try {
      const decoded = jwt.verify(token, this.config.jwtSecret);
      return { userId: String(decoded.userId ?? decoded.sub) };
    } catch {
      return null;
    }
  }

  handleUpgrade(req, socket, head) {
    if (this.stopping) return reject(socket, 503, 'Service Unavailable');
    if (this.connections.size >= this.config.maxConnections) return reject(socket, 503, 'Service Unavailable');
    const user = this.authenticate(req);
    if (!user) return reject(socket, 401, 'Unauthorized');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.handleConnection(ws, user));
  }

  handleConnection(ws, user) {
    const connectionId = randomUUID();
    const connection = { ws, userId: user.userId, rooms: new Set() };
    this.connections.set(connectionId, connection);
    this.scaling.updateConnectionCount(1).catch(() => {});
    this.scaling.subscribeUser(user.userId).catch(() => {});
    this.send(ws, { type: 'connected', connectionId, userId: user.userId });

    ws.on('message', (raw) => {
      this.stats.messagesReceived++;
      let message;
      try {
        message = JSON.parse(raw.toString());
      } catch {
        return this.send(ws, { type: 'error', error: 'Invalid JSON' });
      }
      this.handleMessage(connectionId, connection, message).catch((error) => {
        this.send(ws, { type: 'error', error: error.message, roomId: message?.roomId });
      });
    });
    ws.on('close', () => this.handleDisconnect(connectionId, connection));
    ws.on('error', (error) => console.error(`[ws] ${connectionId}:`, error.message));
  }

  async handleMessage(connectionId, connection, message) {
    switch (message?.type) {
      case 'join_room': {
        const roomId = String(message.roomId ?? '');
        if (!roomId) throw new Error('roomId required');
        if (!this.rooms.has(roomId)) this.rooms.set(roomId, new Set());
        this.rooms.get(roomId).add(connectionId);
        connection.rooms.add(roomId);
        await this.scaling.joinRoom(roomId, connection.userId);
        const members = await this.scaling.getRoomMemberCount(roomId);
        this.send(connection.ws, { type: 'room_joined', roomId, members });
        break;
      }
      case 'leave_room': {
        const roomId = String(message.roomId ?? '');
        await this.leaveRoom(connectionId, connection, roomId);
        this.send(connection.ws, { type: 'room_left', roomId });
        break;
      }
      case 'room_message': {
        const roomId = String(message.roomId ?? '');
        if (!connection.rooms.has(roomId)) throw new Error('Not a member of this room');
        await this.scaling.publishToRoom(roomId, {
          type: 'room_message', roomId, userId: connection.userId, data: message.data, timestamp: Date.now(),
        });
        break;
      }
      case 'direct_message':
        await this.scaling.publishToUser(String(message.toUserId), {
          type: 'direct_message', fromUserId: connection.userId, data: message.data,
        });
        break;
      case 'ping':
        this.send(connection.ws, { type: 'pong', timestamp: Date.now() });
        break;
      default:
        throw new Error(`Unknown message type: ${message?.type}`);
    }
  }

  async leaveRoom(connectionId, connection, roomId) {
    const members = this.rooms.get(roomId);
    if (!members || !members.delete(connectionId)) return;
    connection.rooms.delete(roomId);
    if (members.size === 0) this.rooms.delete(roomId);
    await this.scaling.leaveRoom(roomId, connection.userId, members.size === 0);
  }

  handleDisconnect(connectionId, connection) {
    if (!this.connections.delete(connectionId)) return;
    this.scaling.updateConnectionCount(-1).catch(() => {});
    for (const roomId of [...connection.rooms]) {
      this.leaveRoom(connectionId, connection, roomId).catch(() => {});
    }
  }

  // Delivery of what Redis brings to this instance's own connections.

  deliverToRoom(roomId, message) {
    const members = this.rooms.get(roomId);
    if (!members) return;
    const { instanceId, ...frame } = message;
    const text = JSON.stringify(frame);
    for (const id of members) {
      const c = this.connections.get(id);
      if (c && c.ws.readyState === c.ws.OPEN) {
        c.ws.send(text);
        this.stats.messagesSent++;
      }
    }
  }

  deliverToUser(userId, message) {
    const { instanceId, ...frame } = message;
    for (const c of this.connections.values()) if (c.userId === userId) this.send(c.ws, frame);
  }

  deliverToAll(message) {
    const { instanceId, ...frame } = message;
    for (const c of this.connections.values()) this.send(c.ws, frame);
  }

  send(ws, message) {
    if (ws.readyState === ws.OPEN) {
      ws.send(JSON.stringify(message));
      this.stats.messagesSent++;
    }
  }

  // Health endpoints (seed 002, "Monitoring").

  handleHttp(req, res) {
    const uptime = Math.round((Date.now() - this.startedAt) / 1000);
    const base = { instanceId: this.scaling.instanceId, connections: this.connections.size, rooms: this.rooms.size };
    if (req.url === '/health') {
      return json(res, this.stopping ? 503 : 200, { status: this.stopping ? 'stopping' : 'healthy', ...base, uptime });
    }
    if (req.url === '/stats') {
      const m = process.memoryUsage();
      return json(res, 200, { ...base, totalInstances: this.scaling.getInstanceCount(), memory: { used: m.heapUsed, total: m.heapTotal }, uptime });
    }
    if (req.url === '/metrics') {
      const id = this.scaling.instanceId;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      return res.end(
        `tableforge_websocket_connections_total{instance_id="${id}"} ${this.connections.size}\n` +
        `tableforge_websocket_rooms_total{instance_id="${id}"} ${this.rooms.size}\n` +
        `tableforge_websocket_messages_sent_total{instance_id="${id}"} ${this.stats.messagesSent}\n`,
      );
    }
    res.writeHead(404);
    res.end();
  }

  async shutdown() {
    this.stopping = true;
    for (const c of this.connections.values()) {
      this.send(c.ws, { type: 'server_shutdown' });
      c.ws.close(1001, 'Server shutting down');
    }
    await new Promise((resolve) => this.wss.close(() => resolve()));
    await new Promise((resolve) => this.httpServer.close(() => resolve()));
    await this.scaling.shutdown();
  }
}

function reject(socket, status, text) {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
