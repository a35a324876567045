export * from './sio-client.js';
export * from './delivery-ledger.js';
export * from './histogram.js';
