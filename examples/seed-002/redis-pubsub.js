// redis-pubsub.js — WebSocketScalingManager: "Manages Redis Pub/Sub communication between instances"
//
// wsbench example: written as a reader of seed 002 (fixtures/seeds/002_65b233de4d0c487c.txt,
// "TableForge WebSocket Horizontal Scaling System") would write it. The seed describes the design
// (channels, message flow, environment, endpoints) but shows no code, so the names and shapes below
// are the seed's where it gives them and a plain reading of it where it does not:
//   - Redis channels `tableforge:instances` (heartbeats), `tableforge:rooms:<id>` (room messages),
//     `tableforge:users:<id>` (user messages), `tableforge:global`, `tableforge:admin`;
//   - "Instance heartbeat and discovery": a heartbeat every HEARTBEAT_INTERVAL (30000 ms) on
//     `tableforge:instances`, instances silent for INACTIVE_THRESHOLD (120000 ms) are dropped by the
//     cleanup every CLEANUP_INTERVAL (60000 ms);
//   - "Room membership tracking across instances": a Redis set per room of `<instance>:<user>`;
//   - "All instances with room members receive message": an instance subscribes to a room's channel
//     while it has a local member of that room.
import Redis from 'ioredis';
import { EventEmitter } from 'events';

export class WebSocketScalingManager extends EventEmitter {
  constructor(config = {}) {
    super();
    this.config = {
      instanceId: config.instanceId || `instance-${process.pid}`,
      redis: config.redis || { host: 'localhost', port: 6379 },
      heartbeatInterval: config.heartbeatInterval || 30000,
      cleanupInterval: config.cleanupInterval || 60000,
      inactiveThreshold: config.inactiveThreshold || 120000,
    };
    this.instanceId = this.config.instanceId;
    this.publisher = null;
    this.subscriber = null;
    this.instances = new Map(); // instanceId → last heartbeat
    this.subscribedRooms = new Set();
    this.timers = [];
  }

  async initialize() {
    const { host, port, password, db } = this.config.redis;
    this.publisher = new Redis({ host, port, password, db });
    this.subscriber = new Redis({ host, port, password, db: this.config.redis.pubsubDb ?? db });

    await this.subscriber.subscribe('tableforge:instances', 'tableforge:global', 'tableforge:admin');
    this.subscriber.on('message', (channel, message) => this.handleMessage(channel, message));

    await this.sendHeartbeat();
    this.timers.push(setInterval(() => this.sendHeartbeat().catch((e) => this.emit('error', e)), this.config.heartbeatInterval));
    this.timers.push(setInterval(() => this.cleanupInactiveInstances(), this.config.cleanupInterval));
    console.log(`[scaling] instance ${this.instanceId} connected to Redis`);
  }

  handleMessage(channel, message) {
    let data;
    try {
      data = JSON.parse(message);
    } catch (error) {
      console.error(`[scaling] bad message on ${channel}:`, error.message);
      return;
    }
    if (channel === 'tableforge:instances') {
      if (data.type === 'heartbeat') this.instances.set(data.instanceId, Date.now());
      if (data.type === 'shutdown') this.instances.delete(data.instanceId);
    } else if (channel === 'tableforge:global') {
      this.emit('global_message', data);
    } else if (channel === 'tableforge:admin') {
      this.emit('admin_command', data);
    } else if (channel.startsWith('tableforge:rooms:')) {
      this.emit('room_message', channel.slice('tableforge:rooms:'.length), data);
    } else if (channel.startsWith('tableforge:users:')) {
      this.emit('user_message', channel.slice('tableforge:users:'.length), data);
    }
  }

  async sendHeartbeat() {
    const beat = { type: 'heartbeat', instanceId: this.instanceId, timestamp: Date.now() };
    await this.publisher.hset('tableforge:instance-registry', this.instanceId, JSON.stringify(beat));
    await this.publisher.publish('tableforge:instances', JSON.stringify(beat));
  }

  cleanupInactiveInstances() {
    const now = Date.now();
    for (const [id, last] of this.instances) {
      if (now - last > this.config.inactiveThreshold) {
        this.instances.delete(id);
        this.publisher.hdel('tableforge:instance-registry', id).catch(() => {});
      }
    }
  }

  getInstanceCount() {
    return Math.max(1, this.instances.size);
  }

  // Rooms

  async joinRoom(roomId, userId) {
    await this.publisher.sadd(`tableforge:room-members:${roomId}`, `${this.instanceId}:${userId}`);
    if (!this.subscribedRooms.has(roomId)) {
      this.subscribedRooms.add(roomId);
      await this.subscriber.subscribe(`tableforge:rooms:${roomId}`);
    }
    await this.publishToRoom(roomId, { type: 'user_joined', roomId, userId });
  }

  async leaveRoom(roomId, userId, lastLocalMember) {
    await this.publisher.srem(`tableforge:room-members:${roomId}`, `${this.instanceId}:${userId}`);
    await this.publishToRoom(roomId, { type: 'user_left', roomId, userId });
    if (lastLocalMember && this.subscribedRooms.delete(roomId)) {
      await this.subscriber.unsubscribe(`tableforge:rooms:${roomId}`);
    }
  }

  async getRoomMemberCount(roomId) {
    return this.publisher.scard(`tableforge:room-members:${roomId}`);
  }

  async publishToRoom(roomId, message) {
    await this.publisher.publish(`tableforge:rooms:${roomId}`, JSON.stringify({ ...message, instanceId: this.instanceId }));
  }

  // Users and global

  async subscribeUser(userId) {
    await this.subscriber.subscribe(`tableforge:users:${userId}`);
  }

  async publishToUser(userId, message) {
    await this.publisher.publish(`tableforge:users:${userId}`, JSON.stringify({ ...message, instanceId: this.instanceId }));
  }

  async publishGlobal(message) {
    await this.publisher.publish('tableforge:global', JSON.stringify({ ...message, instanceId: this.instanceId }));
  }

  async updateConnectionCount(delta) {
    return this.publisher.incrby('tableforge:connections', delta);
  }

  async shutdown() {
    for (const t of this.timers) clearInterval(t);
    try {
      await this.publisher.publish('tableforge:instances', JSON.stringify({ type: 'shutdown', instanceId: this.instanceId }));
      await this.publisher.hdel('tableforge:instance-registry', this.instanceId);
      // This instance's room memberships go with it.
      for (const roomId of this.subscribedRooms) {
        const members = await this.publisher.smembers(`tableforge:room-members:${roomId}`);
        const mine = members.filter((m) => m.startsWith(`${this.instanceId}:`));
        if (mine.length) await this.publisher.srem(`tableforge:room-members:${roomId}`, ...mine);
      }
    } finally {
      await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
    }
  }
}
