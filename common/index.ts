export * from './errors.js';
export * from './paths.js';
export * from './clock.js';
export * from './logger.js';
export * from './disposer-stack.js';
export * from './out-dir.js';
export * from './binaries.js';
export * from './tls.js';
