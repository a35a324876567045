/**
 * `wsbench render node-job <scenario>`: the Node engine as an Indexed Job — `parallelism` pods,
 * pod i (JOB_COMPLETION_INDEX i−1) running `wsbench run <scenario> --shard i/N --start-at <t>` from
 * the wsbench image, each writing its partial report to the results claim — and a merge Job that
 * waits for every partial and runs `wsbench merge` on them.
 *
 * Why each shard pod has its own NGINX (a native sidecar: an init container with
 * `restartPolicy: Always`, Kubernetes 1.29+) in front of the node Services: the Node engine
 * spreads its connections by binding 127.0.x.y source addresses (load/source-address.ts), so it
 * reaches only a loopback load balancer (`--url` accepts loopback only). The sidecar is NGINX with
 * the config wsbench generates (cluster/nginx-config.ts, via render/cluster.ts) listening in the
 * pod, so ip_hash spreads each shard's connections over the nodes as on one machine; the nodes,
 * Redis and the cross-node path are the cluster's.
 */
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IConfigMap, IContainer, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { LbPolicy } from '../cluster/nginx-config.js';
import type { ServerOptions } from '../cluster/types.js';
import { jwtEnv, K8S_PORTS, nginxConf, nginxContainer, JWT_SECRET_KEY } from './cluster.js';
import { labelsFor, metadata, type K8sObject, type Rendered } from './k8s.js';
import { resultsClaim, RESULTS_DIR, type ResultsClaimOptions } from './results-claim.js';

/** The user the wsbench image runs as (`node` of the Node images): the results claim is made writable for it (fsGroup). */
export const WSBENCH_IMAGE_GID = 1000;
export const CONFIG_DIR = '/etc/wsbench';
export const CONFIG_FILE = `${CONFIG_DIR}/wsbench.json`;

export interface NodeJobRenderOptions {
  /** Job name; the merge Job is `<name>-merge`. */
  name: string;
  namespace?: string;
  scenario: string;
  /** The run's config file (scenario options, server variant, targets), as `wsbench run --config` reads it. */
  config: Record<string, unknown>;
  /** Shards: completions = parallelism = N. */
  parallelism: number;
  /** ISO time every shard starts its phases from (`--start-at`). */
  startAt: string;
  /** wsbench's image (the project's Dockerfile). */
  image: string;
  nginxImage: string;
  /** The node Services the sidecar balances over (`host:port`). */
  upstreams: Array<{ host: string; port: number }>;
  lbPolicy: LbPolicy;
  /** Connections of one shard (sizes the sidecar's NGINX). */
  connectionsPerShard: number;
  serverOptions: ServerOptions;
  jwtSecretName: string;
  results: ResultsClaimOptions;
  /** Seconds the merge Job waits for every partial before it gives up. */
  mergeTimeoutS: number;
  /** CPU and memory each shard's wsbench container requests (`--cpu`, `--memory`); none by default. */
  requests?: { cpu?: string; memory?: string };
}

/** Shard i's output folder (1-based), relative to the run's folder on the claim. */
export const shardDir = (i: number | string) => `${RESULTS_DIR}/shard-${i}`;

/**
 * The shard pod's shell command: JOB_COMPLETION_INDEX is 0-based, `--shard` 1-based. `exec`, so
 * the pod's SIGTERM reaches wsbench (which tears down and writes what it has).
 */
export function shardCommand(o: Pick<NodeJobRenderOptions, 'scenario' | 'parallelism' | 'startAt'>): string {
  return [
    'i=$((JOB_COMPLETION_INDEX + 1))',
    `exec wsbench run ${o.scenario} --config ${CONFIG_FILE} --url http://127.0.0.1:${K8S_PORTS.lb} --shard "$i/${o.parallelism}" --start-at ${o.startAt} --out "${shardDir('$i')}"`,
  ].join('; ');
}

/** The partial of every shard, in shard order: what the merge Job passes to `wsbench merge`. */
export function partialPaths(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `${shardDir(k + 1)}/partial.json`);
}

/** The merge Job's shell command: wait (bounded by the Job's deadline) until every partial exists, then merge. */
export function mergeCommand(n: number): string {
  const parts = partialPaths(n);
  const test = parts.map((p) => `[ -f ${p} ]`).join(' && ');
  return [
    `until ${test}; do echo "waiting for ${n} partials"; sleep 10; done`,
    `exec wsbench merge ${parts.join(' ')} --out ${RESULTS_DIR}/merged`,
  ].join('; ');
}

export function renderNodeJob(o: NodeJobRenderOptions): Rendered {
  const ns = o.namespace;
  const labels = labelsFor(o.name, 'node-job', { 'wsbench.scenario': o.scenario });
  const claim = resultsClaim(o.results, o.name, labels, ns);
  const configName = `${o.name}-config`;
  const configMap: IConfigMap & K8sObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(configName, labels, ns),
    data: {
      'wsbench.json': `${JSON.stringify(o.config, null, 2)}\n`,
      'nginx.conf': nginxConf(o.upstreams, { lbPolicy: o.lbPolicy, expectedConnections: o.connectionsPerShard, serverOptions: o.serverOptions }),
    },
  };

  const ngx = nginxContainer(o.nginxImage, configName);
  const sidecar: IContainer = {
    ...ngx.container,
    name: 'lb',
    restartPolicy: 'Always',
    // wsbench starts only once NGINX answers (a sidecar's startupProbe gates the next containers).
    startupProbe: { httpGet: { path: '/nginx-health', port: K8S_PORTS.lb }, periodSeconds: 1, failureThreshold: 60 },
    // Only nginx.conf of the ConfigMap: the same mount path the cluster's NGINX uses.
    volumeMounts: ngx.container.volumeMounts,
  };
  const resultsMount: IVolumeMount = { name: 'results', mountPath: RESULTS_DIR, subPath: o.name };
  const volumes: IVolume[] = [
    ...ngx.volumes,
    { name: 'results', persistentVolumeClaim: { claimName: claim.claimName } },
    { name: 'wsbench-config', configMap: { name: configName, items: [{ key: 'wsbench.json', path: 'wsbench.json' }] } },
  ];
  const job: IJob & K8sObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(o.name, labels, ns),
    spec: {
      completionMode: 'Indexed',
      completions: o.parallelism,
      parallelism: o.parallelism,
      // A shard that fails is not retried: its phases would start late; merge then names it missing.
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          securityContext: { fsGroup: WSBENCH_IMAGE_GID },
          initContainers: [sidecar],
          containers: [
            {
              name: 'wsbench',
              image: o.image,
              command: ['sh', '-c', shardCommand(o)],
              env: [jwtEnv(o.jwtSecretName)],
              ...(o.requests && Object.keys(o.requests).length ? { resources: { requests: o.requests } } : {}),
              volumeMounts: [resultsMount, { name: 'wsbench-config', mountPath: CONFIG_DIR, readOnly: true }],
            },
          ],
          volumes,
        },
      },
    },
  };
  const merge: IJob & K8sObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(`${o.name}-merge`, labelsFor(o.name, 'merge', { 'wsbench.scenario': o.scenario }), ns),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: o.mergeTimeoutS,
      template: {
        metadata: { labels: labelsFor(o.name, 'merge', { 'wsbench.scenario': o.scenario }) },
        spec: {
          restartPolicy: 'Never',
          securityContext: { fsGroup: WSBENCH_IMAGE_GID },
          containers: [{ name: 'merge', image: o.image, command: ['sh', '-c', mergeCommand(o.parallelism)], volumeMounts: [resultsMount] }],
          volumes: [{ name: 'results', persistentVolumeClaim: { claimName: claim.claimName } }],
        },
      },
    },
  };

  const notes = [
    `${o.scenario} on ${o.parallelism} shard pods (Indexed Job ${o.name}, image ${o.image}); every shard starts its phases at ${o.startAt} — apply before then.`,
    `Each pod reaches the nodes ${o.upstreams.map((u) => `${u.host}:${u.port}`).join(', ')} through its own NGINX sidecar (${o.lbPolicy}); ${JWT_SECRET_KEY} from the Secret ${o.jwtSecretName}.`,
    `Results: shard i writes ${shardDir('<i>')}/partial.json on the claim ${claim.claimName} (folder ${o.name}/); the Job ${o.name}-merge waits for all ${o.parallelism} (at most ${o.mergeTimeoutS} s) and writes the merged report to ${RESULTS_DIR}/merged.`,
    `Needs Kubernetes 1.29+ (native sidecars) and a ReadWriteMany claim.`,
    `Apply: kubectl apply -f <this>; watch: kubectl wait --for=condition=complete job/${o.name}-merge --timeout=${o.mergeTimeoutS}s; read: kubectl logs job/${o.name}-merge`,
  ];
  return { kind: 'node-job', objects: [...(claim.object ? [claim.object] : []), configMap, job, merge], notes };
}
