/**
 * Bun entry point of the reference server (seed 004's variant), run by the bun binary that the
 * `bun` npm package ships (node_modules/.bin/bun):
 *
 *   bun dist/reference-server/bun-main.js --port 3001 --redis redis://127.0.0.1:6379 --node-id node-1 \
 *     [--jwt-secret S] [… the same flags as main.js]
 *
 * Same listening line, signals and exit codes as main.js (see process-main.ts).
 */
import { runServerProcess } from './process-main.js';
import { bunRuntime, startBunServer } from './bun-server.js';

void runServerProcess(
  process.argv.slice(2),
  (server) => {
    if (bunRuntime() === undefined) return 'bun-main.js runs under Bun: node_modules/.bin/bun dist/reference-server/bun-main.js';
    if (server !== 'bun') return `--server ${server} runs under Node: node dist/reference-server/main.js --server ${server}`;
    return startBunServer;
  },
  'bun',
);
