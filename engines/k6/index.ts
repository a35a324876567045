export * from './binary.js';
export * from './bundle.js';
export * from './command.js';
export * from './engine.js';
export * from './scenarios.js';
export * from './broadcast-ingest.js';
export * from './process-monitor.js';
