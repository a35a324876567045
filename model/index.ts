export * from './run-report.js';
export * from './schema.js';
export * from './targets.js';
export * from './evaluate.js';
export * from './histogram.js';
export * from './progress.js';
export * from './run-events.js';
export * from './accounting.js';
