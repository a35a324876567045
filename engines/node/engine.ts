/**
 * The Node engine (`--engine node`, the default): the scenario's own `run(ctx)` drives wsbench's
 * load generator (load/ worker processes) against the cluster.
 */
import { SERVER_VARIANT_INFO } from '../../cluster/types.js';
import { LoadGenerator } from '../../load/load-generator.js';
import type { Engine, EnginePrepareInput, EngineRunContext, PreparedEngine } from '../types.js';

export const nodeEngine: Engine = {
  name: 'node',
  async prepare(input: EnginePrepareInput): Promise<PreparedEngine> {
    const loads: LoadGenerator[] = [];
    return {
      log: [],
      pids: () => loads.flatMap((l) => l.pids()),
      async run(ctx: EngineRunContext) {
        const t = input.topology;
        const result = await input.scenario.run({
          cluster: ctx.cluster,
          options: input.options,
          ...(input.shard ? { shard: input.shard } : {}),
          topology: t,
          signal: ctx.signal,
          event: ctx.event,
          progress: ctx.progress,
          ...(ctx.repeat ? { repeat: ctx.repeat } : {}),
          startLoad: async (opts) => {
            // The ws and bun variants speak the JSON wire protocol; socketio speaks Socket.IO.
            // --adapter redis-streams: the clients resume their Socket.IO session on reconnect (connection state recovery).
            const gen = await LoadGenerator.start({
              ...opts,
              url: ctx.cluster.url,
              jwtSecret: t.jwtSecret,
              protocol: SERVER_VARIANT_INFO[t.server].protocol,
              ...(t.protocol ? { profile: t.protocol } : {}),
              // The load balancer names the upstream of each connection: its port gives the node.
              nodePorts: Object.fromEntries(ctx.cluster.nodes.map((n) => [String(n.port), n.id])),
              recover: t.adapter === 'redis-streams',
              ...(ctx.cluster.tls ? { tls: ctx.cluster.tls } : {}),
            });
            loads.push(gen);
            ctx.defer('load generator', () => gen.close());
            ctx.onProcess();
            return gen;
          },
        });
        return { result };
      },
    };
  },
};
