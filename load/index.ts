export * from './sio-client.js';
export * from './delivery-ledger.js';
export * from './histogram.js';
export * from './protocol-client.js';
export * from './load-generator.js';
export * from './room-plan.js';
export * from './source-address.js';
export * from './token.js';
