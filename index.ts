/** wsbench as a library: the CLI is a thin layer over these. */
export { run, type RunOptions, type RunOutcome } from './runner/run.js';
export { buildPlan, type RunPlan } from './cli/plan.js';
export { main } from './cli/main.js';
export * from './common/index.js';
export * from './cluster/index.js';
export { SCENARIOS, defineScenario, type Scenario, type ScenarioContext, type ScenarioResult } from './scenarios/index.js';
export * from './reports/index.js';
