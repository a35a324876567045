export * from './console.js';
export * from './write-report.js';
export * from './html.js';
export * from './junit.js';
export * from './compare.js';
export * from './chart-data.js';
export * from './seed-label.js';
export * from './run-event-lines.js';
