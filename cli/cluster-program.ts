/** The `wsbench cluster` command group (commander wiring; the work is in cluster-commands.ts). */
import { Command, Option } from 'commander';
import { LB_POLICIES } from '../cluster/nginx-config.js';
import { SERVER_KINDS, SOCKETIO_ADAPTERS, SERVER_DEFAULTS } from '../cluster/types.js';
import { DOCKER_IMAGE_DEFAULTS, DOCKER_NETWORK_CHOICES, DOCKER_PULL_CHOICES } from '../cluster/docker-options.js';
import { CLUSTER_UP_DEFAULTS, clusterDown, clusterLs, clusterServe, clusterUp } from './cluster-commands.js';

export function addClusterCommands(prog: Command, onExitCode: (code: number) => void): void {
  const io = { stdout: process.stdout, stderr: process.stderr };
  const cluster = prog.command('cluster').description('a reference cluster that stays up between runs: up, down, ls');
  cluster
    .command('up')
    .description('start the reference cluster (or your own server as its nodes) and leave it running (the command returns); prints its URL, node URLs, id, JWT secret file and how to stop it')
    .option('--nodes <n>', `reference nodes behind nginx (default ${CLUSTER_UP_DEFAULTS.nodes})`)
    .addOption(new Option('--server <server>', `reference server variant (default ${CLUSTER_UP_DEFAULTS.server})`).choices([...SERVER_KINDS]))
    .option('--server-command <cmd>', "your own server as the nodes (local driver): the command starting ONE node, with {port} {redisUrl} {nodeId} (also PORT, REDIS_URL, NODE_ID in its environment), as `run` takes it (more in the config's `server`)")
    .option('--server-image <ref>', '[--driver docker] your own server as the nodes: the image run once per node, as `run` takes it')
    .addOption(new Option('--adapter <adapter>', '[--server socketio] cluster adapter (default redis)').choices([...SOCKETIO_ADAPTERS]))
    .addOption(new Option('--driver <driver>', 'local processes or docker containers (default local)').choices(['local', 'docker']))
    .addOption(new Option('--lb-policy <policy>', `nginx upstream policy (default ${CLUSTER_UP_DEFAULTS.lbPolicy})`).choices([...LB_POLICIES]))
    .option('--lb-port <port>', 'load-balancer port on 127.0.0.1 (default: a free port)')
    .option('--server-rate-limit <n>', `messages per minute per connection the nodes allow (default seed 001: ${SERVER_DEFAULTS.rateLimit}; a run at --rate r needs r × 90 + 10)`)
    .option('--room-capacity <n>', `members per room per node (default seed 000: ${SERVER_DEFAULTS.roomCapacity})`)
    .option('--max-connections <n>', `client connections nginx is sized for (default ${CLUSTER_UP_DEFAULTS.maxConnections})`)
    .option('--ready-timeout <ms>', `ms each cluster part gets to become ready (default ${CLUSTER_UP_DEFAULTS.readyTimeout})`)
    .option('--redis-image <ref>', `[--driver docker] (default ${DOCKER_IMAGE_DEFAULTS.redis})`)
    .option('--nginx-image <ref>', `[--driver docker] (default ${DOCKER_IMAGE_DEFAULTS.nginx})`)
    .option('--node-image <ref>', `[--driver docker] (default ${DOCKER_IMAGE_DEFAULTS.node})`)
    .addOption(new Option('--docker-network <mode>', '[--driver docker] (default auto)').choices([...DOCKER_NETWORK_CHOICES]))
    .addOption(new Option('--docker-pull <policy>', '[--driver docker] (default missing)').choices([...DOCKER_PULL_CHOICES]))
    .option('--config <file>', 'config file, JSON/JS/TS as `run` takes it (its cluster keys and `server`; flags override it)')
    .option('--out <dir>', 'the cluster folder (default wsbench-results/cluster-<id>)')
    .action(async (flags: Record<string, unknown>) => onExitCode(await clusterUp(flags, io)));
  cluster
    .command('down')
    .argument('[id]', 'cluster id or folder (default: the only one up)')
    .option('--results <dir>', 'folder holding cluster folders (default wsbench-results)')
    .description('stop a cluster started by `wsbench cluster up`: every process (or container) it started')
    .action(async (id: string | undefined, flags: { results?: string }) => onExitCode(await clusterDown(id, flags, io)));
  cluster
    .command('ls')
    .option('--results <dir>', 'folder holding cluster folders (default wsbench-results)')
    .option('--json', 'print JSON')
    .description('list clusters started by `wsbench cluster up` and whether they are up')
    .action((flags: { results?: string; json?: boolean }) => onExitCode(clusterLs(flags, io)));
  cluster
    .command('serve', { hidden: true })
    .argument('<dir>', 'cluster folder holding cluster-spec.json')
    .description('the keeper process `cluster up` starts detached (not for direct use)')
    .action(async (dir: string) => onExitCode(await clusterServe(dir)));
}
