export * from './binary.js';
export * from './bundle.js';
export * from './command.js';
export * from './engine.js';
export * from './scenarios.js';
export * from './summary.js';
export * from './k6-engine.js';
