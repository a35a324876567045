export * from './run-report.js';
export * from './targets.js';
export * from './evaluate.js';
export * from './console.js';
export * from './write-report.js';
