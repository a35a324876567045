/**
 * Globals k6 provides that @types/k6 does not declare (without pulling in the DOM library).
 * https://grafana.com/docs/k6/latest/javascript-api/ — k6's console writes to its log (stderr).
 */
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
};
