export * from './run.js';
export * from './plan.js';
export { assembleReport, toolVersion } from './assemble-report.js';
export { forceKillRun } from './force-kill.js';
export * from './run-id.js';
