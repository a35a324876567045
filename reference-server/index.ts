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
