/** wsbench as a library: the CLI is a thin layer over these. */
export { run, type RunOptions, type RunOutcome } from './runner/run.js';
export { buildPlan, type RunPlan } from './cli/plan.js';
export { main } from './cli/main.js';
export * from './common/index.js';
export * from './cluster/index.js';
export { SCENARIOS, defineScenario, type Scenario, type ScenarioContext, type ScenarioResult } from './scenarios/index.js';
export * from './reports/index.js';
export * from './model/index.js';
export * from './engines/index.js';
export { exitCodeForK6, reconcileK6Thresholds, parseK6Summary } from './engines/k6/summary.js';
