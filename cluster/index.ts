export * from './types.js';
export * from './local-driver.js';
export * from './nginx-config.js';
export * from './binaries.js';
export * from './managed-process.js';
export * from './ports.js';
export * from './wait.js';
export * from './chaos.js';
