/**
 * wsbench as a library: what a user composes. The CLI is a thin layer over the same parts;
 * everything else is internal and may change without notice.
 *
 *   import { run, defineConfig } from 'wsbench';
 *   const report = await run(defineConfig({ scenario: 'cross-node-broadcast', options: { connections: 300 } }));
 */

// Running and configuring.
export { runConfig as run, type RunConfigOptions as RunOptions } from './runner/run-config.js';
export type { RunEvent } from './model/run-events.js';
export type { ProgressSnapshot } from './model/progress.js';
export { defineConfig, type EffectiveConfig, type WsbenchConfig, type WsbenchConfigFile } from './config/schema.js';
export { loadConfigFile } from './config/load.js';
export { CONFIG_DEFAULTS } from './config/defaults.js';
export type { UserServer } from './config/user-server.js';
export { REFERENCE_PROFILES, type ProtocolProfile } from './config/protocol.js';
export type { TargetConfigValue } from './config/targets-options.js';
export type { ChaosConfig, TlsConfig } from './config/external-options.js';
export type { ChaosHooks } from './cluster/chaos-hooks.js';

// Scenarios.
export { SCENARIOS, defineScenario, type Scenario, type ScenarioContext, type ScenarioFlag, type ScenarioResult, type ServerOverride } from './scenarios/index.js';

// Cluster drivers.
export { LocalDriver } from './cluster/local-driver.js';
export { ExternalDriver, type ExternalTarget } from './cluster/external-driver.js';
export { createDockerDriver } from './cluster/index.js';
export type { ClusterDriver, DriverStartOptions, StartedCluster, Topology, ServerOptions } from './cluster/types.js';
export type { DockerDriverOptions } from './cluster/docker-options.js';

// Reports: renderers, the gate, the schema, the types.
export { renderConsole, type ConsoleOptions } from './reports/console.js';
export { renderHtml } from './reports/html.js';
export { renderJunit } from './reports/junit.js';
export { compareReports, renderComparison, type Comparison, type CompareOptions, type MetricDelta } from './reports/compare.js';
export { readReport } from './reports/write-report.js';
export { validateReport } from './model/schema.js';
export { exitCodeFor } from './model/evaluate.js';
export type { Accounting, MetricSummary, RunReport, TargetResult, Verdict } from './model/run-report.js';

// Errors carry a stable code, a hint and an exit code.
export { WsbenchError, isWsbenchError, type ErrorCode } from './common/errors.js';
