export {
  DEFAULT_OPTIONS,
  RECONNECT_DELAY_MS,
  packageVersions,
  startReferenceServer,
  type Log,
  type RefServer,
  type ReferenceServer,
  type ReferenceServerOptions,
  type SocketData,
  type Versions,
} from './socketio-server.js';
export {
  ALL_ROOMS,
  JWT_ALGORITHM,
  JWT_AUDIENCE,
  TokenError,
  createTokenVerifier,
  grantsRoom,
  mintToken,
  type MintOptions,
  type TokenGrant,
  type TokenVerifier,
} from './token.js';
export { USAGE, UsageError, parseServerArgs } from './main.js';
export { ADAPTER_OF, SERVER_VARIANTS, type ParsedServerArgs, type ServerVariant } from './options.js';
export { runServerProcess, type RunningServer, type StartVariant } from './process-main.js';
export { startWsServer, wsVersions, type WsReferenceServer } from './ws-server.js';
export { startBunServer, bunRuntime, type BunReferenceServer } from './bun-server.js';
export { JsonHub, Session, type HubSocket, type HubTransport } from './json-hub.js';
export { CLOSE_GOING_AWAY, CLOSE_TOO_BIG, WS_PATH, ackFrame, eventFrame, parseClientFrame, type ClientFrame } from './json-wire.js';
export { CLUSTER_MANAGER_LAYOUT, RedisBus, TABLEFORGE_LAYOUT, type BusLayout, type ChannelKind } from './redis-bus.js';
