/**
 * `wsbench render cluster`: the reference cluster for Kubernetes. One Deployment and one Service
 * per node (so chaos can target one node: `kubectl delete pod -l wsbench.node=node-2`), Redis
 * (Deployment + Service), and NGINX with the config wsbench generates for its own runs
 * (cluster/nginx-config.ts) — its upstreams the node Services — as a ConfigMap, a Deployment and
 * a Service. The nodes are wsbench's reference servers from the wsbench image (Dockerfile), or
 * the user's own server image (`--server-image`). The JWT secret the nodes verify sits in a
 * Secret the load generators read too.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IConfigMap, IContainer, IEnvVar, IPodSpec, ISecret, IService, IVolume } from 'kubernetes-models/v1';
import { UPSTREAM_IMAGES } from '../cluster/docker-options.js';
import { APP_DIR } from '../cluster/docker-spec.js';
import { FILE_LIMIT } from '../cluster/local-driver.js';
import { renderNginxConfig, type LbPolicy } from '../cluster/nginx-config.js';
import { referenceNodeArgs } from '../cluster/node-args.js';
import { SERVER_VARIANT_INFO, type ServerKind, type ServerOptions, type SocketIoAdapter, type Topology } from '../cluster/types.js';
import { labelsFor, metadata, type K8sObject, type Rendered } from './k8s.js';

/** Ports inside the pods (each pod has its own network namespace, so they never collide). */
export const K8S_PORTS = { redis: 6379, node: 3000, lb: 8080 } as const;
/** Key of the JWT secret in its Secret (the variable every reader gets it as). */
export const JWT_SECRET_KEY = 'WSB_JWT_SECRET';
/** Where NGINX keeps its pid, temp files and error log inside its container (an emptyDir). */
export const NGINX_PREFIX = '/var/run/wsbench-nginx';
export const NGINX_CONF_DIR = '/etc/wsbench-nginx';

export interface ClusterRenderOptions {
  /** Prefix of every object's name (default `wsbench`): `<name>-node-1`, `<name>-lb`, … */
  name: string;
  namespace?: string;
  /** Reference nodes (default 3): one Deployment + Service each. */
  nodes: number;
  server: ServerKind;
  adapter?: SocketIoAdapter;
  /** wsbench's image (the project's Dockerfile): runs the reference servers. */
  image: string;
  /** The user's server image instead of the reference servers. */
  serverImage?: string;
  /** Arguments of the user's server image (default none: its own command). */
  serverArgs: string[];
  /** Port the nodes listen on (default 3000). */
  serverPort: number;
  /** HTTP path answering 200 when a node is ready (default /health). */
  healthPath: string;
  redisImage: string;
  nginxImage: string;
  lbPolicy: LbPolicy;
  /** Peak client connections through NGINX (sizes its workers, as for a local run). */
  expectedConnections: number;
  serverOptions: ServerOptions;
  /** The secret to put in the Secret; null: the Secret is not rendered (it already exists). */
  jwtSecret: string | null;
  /** Name of the Secret holding WSB_JWT_SECRET (default `<name>-jwt`). */
  jwtSecretName: string;
}

export const CLUSTER_RENDER_DEFAULTS = {
  name: 'wsbench',
  nodes: 3,
  server: 'socketio' as ServerKind,
  serverPort: K8S_PORTS.node,
  healthPath: '/health',
  // A Kubernetes cluster pulls from registries: the official images (wsbench's own names are local builds).
  redisImage: UPSTREAM_IMAGES.redis,
  nginxImage: UPSTREAM_IMAGES.nginx,
  lbPolicy: 'ip_hash' as LbPolicy,
  /** 15,000 per node would be the seeds' upper figure; NGINX is sized for the whole cluster. */
  expectedConnections: 10_000,
};

export const nodeId = (i: number) => `node-${i + 1}`;
export const nodeServiceName = (name: string, i: number) => `${name}-${nodeId(i)}`;
export const lbServiceName = (name: string) => `${name}-lb`;
export const redisServiceName = (name: string) => `${name}-redis`;
export const defaultJwtSecretName = (name: string) => `${name}-jwt`;

/** `WSB_JWT_SECRET` from the Secret (never a literal in a pod spec). */
export function jwtEnv(secretName: string): IEnvVar {
  return { name: JWT_SECRET_KEY, valueFrom: { secretKeyRef: { name: secretName, key: JWT_SECRET_KEY } } };
}

export function jwtSecretObject(secretName: string, secret: string, instance: string, namespace?: string): ISecret & K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(secretName, labelsFor(instance, 'jwt-secret'), namespace),
    type: 'Opaque',
    stringData: { [JWT_SECRET_KEY]: secret },
  };
}

/**
 * NGINX as wsbench configures it for its own runs, listening on 0.0.0.0:8080 in its pod, its
 * prefix an emptyDir (`NGINX_PREFIX`). Workers run as the image's `nginx` user.
 */
export function nginxConf(upstreams: Array<{ host: string; port: number }>, o: { lbPolicy: LbPolicy; expectedConnections: number; serverOptions: ServerOptions }): string {
  return renderNginxConfig({
    prefix: NGINX_PREFIX,
    listenHost: '0.0.0.0',
    listenPort: K8S_PORTS.lb,
    upstreams,
    policy: o.lbPolicy,
    expectedConnections: o.expectedConnections,
    fileLimit: FILE_LIMIT,
    pingWindowMs: o.serverOptions.pingInterval + o.serverOptions.pingTimeout,
    user: 'nginx',
  });
}

/** The NGINX container (the cluster's load balancer, or a load generator's sidecar). */
export function nginxContainer(image: string, configMap: string): { container: IContainer; volumes: IVolume[] } {
  const tmp = ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => `${NGINX_PREFIX}/tmp/${d}`).join(' ');
  return {
    container: {
      name: 'nginx',
      image,
      // The temp folders must exist before NGINX starts (the local driver creates them too).
      // Workers run as `nginx`: the temp folders are theirs to write, as the local driver makes them (0777).
      command: ['sh', '-c', `mkdir -p ${tmp} && chmod -R 0777 ${NGINX_PREFIX}/tmp && exec nginx -p ${NGINX_PREFIX} -c ${NGINX_CONF_DIR}/nginx.conf -e ${NGINX_PREFIX}/error.log`],
      ports: [{ name: 'http', containerPort: K8S_PORTS.lb }],
      readinessProbe: { httpGet: { path: '/nginx-health', port: K8S_PORTS.lb }, periodSeconds: 2 },
      volumeMounts: [
        { name: 'nginx-conf', mountPath: NGINX_CONF_DIR, readOnly: true },
        { name: 'nginx-run', mountPath: NGINX_PREFIX },
      ],
    },
    volumes: [
      { name: 'nginx-conf', configMap: { name: configMap } },
      { name: 'nginx-run', emptyDir: {} },
    ],
  };
}

function topologyOf(o: ClusterRenderOptions): Topology {
  return {
    server: o.server,
    ...(o.server === 'socketio' ? { adapter: o.adapter ?? 'redis' } : {}),
    nodes: o.nodes,
    lb: 'nginx',
    lbPolicy: o.lbPolicy,
    lbPort: K8S_PORTS.lb,
    expectedConnections: o.expectedConnections,
    serverOptions: o.serverOptions,
    jwtSecret: '',
    readyTimeoutMs: 30_000,
  };
}

/** One node's container: the reference server of the wsbench image, or the user's image. */
function nodeContainer(o: ClusterRenderOptions, i: number): IContainer {
  const redisUrl = `redis://${redisServiceName(o.name)}:${K8S_PORTS.redis}`;
  const common = {
    name: 'server',
    ports: [{ name: 'http', containerPort: o.serverPort }],
    readinessProbe: { httpGet: { path: o.healthPath, port: o.serverPort }, periodSeconds: 2 },
  };
  if (o.serverImage) {
    return {
      ...common,
      image: o.serverImage,
      ...(o.serverArgs.length ? { args: o.serverArgs } : {}),
      env: [
        jwtEnv(o.jwtSecretName),
        { name: 'PORT', value: String(o.serverPort) },
        { name: 'REDIS_URL', value: redisUrl },
        { name: 'NODE_ID', value: nodeId(i) },
      ],
    };
  }
  const args = referenceNodeArgs(topologyOf(o), { port: o.serverPort, host: '0.0.0.0', redisUrl, nodeId: nodeId(i) });
  const program =
    SERVER_VARIANT_INFO[o.server].runtime === 'bun'
      ? [`${APP_DIR}/node_modules/.bin/bun`, `${APP_DIR}/dist/reference-server/bun-main.js`]
      : ['node', `${APP_DIR}/dist/reference-server/main.js`, '--server', o.server];
  return {
    ...common,
    image: o.image,
    command: program,
    args,
    // The secret goes by environment, never argv, as with the local and docker drivers.
    env: [jwtEnv(o.jwtSecretName), { name: 'NODE_ENV', value: 'production' }],
  };
}

function deployment(name: string, labels: Record<string, string>, namespace: string | undefined, spec: IPodSpec): IDeployment & K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name, labels, namespace),
    spec: {
      replicas: 1,
      // One pod per node at a time: a killed node comes back as itself, never beside itself.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { 'app.kubernetes.io/instance': labels['app.kubernetes.io/instance'], 'app.kubernetes.io/component': labels['app.kubernetes.io/component'], ...(labels['wsbench.node'] ? { 'wsbench.node': labels['wsbench.node'] } : {}) } },
      template: { metadata: { labels }, spec },
    },
  };
}

function service(name: string, labels: Record<string, string>, namespace: string | undefined, port: number, portName = 'http'): IService & K8sObject {
  const selector = { 'app.kubernetes.io/instance': labels['app.kubernetes.io/instance'], 'app.kubernetes.io/component': labels['app.kubernetes.io/component'], ...(labels['wsbench.node'] ? { 'wsbench.node': labels['wsbench.node'] } : {}) };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(name, labels, namespace),
    spec: { selector, ports: [{ name: portName, port, targetPort: port, protocol: 'TCP' }] },
  };
}

/** The cluster's objects, in apply order: Secret, Redis, the nodes, NGINX. */
export function renderCluster(o: ClusterRenderOptions): Rendered {
  const ns = o.namespace;
  const objects: K8sObject[] = [];
  if (o.jwtSecret !== null) objects.push(jwtSecretObject(o.jwtSecretName, o.jwtSecret, o.name, ns));

  const redisLabels = labelsFor(o.name, 'redis');
  objects.push(
    deployment(redisServiceName(o.name), redisLabels, ns, {
      containers: [
        {
          name: 'redis',
          image: o.redisImage,
          command: ['redis-server'],
          args: ['--port', String(K8S_PORTS.redis), '--bind', '0.0.0.0', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--maxclients', '10000'],
          ports: [{ name: 'redis', containerPort: K8S_PORTS.redis }],
          readinessProbe: { exec: { command: ['redis-cli', '-p', String(K8S_PORTS.redis), 'ping'] }, periodSeconds: 2 },
        },
      ],
    }),
  );
  objects.push(service(redisServiceName(o.name), redisLabels, ns, K8S_PORTS.redis, 'redis'));

  for (let i = 0; i < o.nodes; i++) {
    const labels = labelsFor(o.name, 'node', { 'wsbench.node': nodeId(i) });
    objects.push(deployment(nodeServiceName(o.name, i), labels, ns, { containers: [nodeContainer(o, i)] }));
    objects.push(service(nodeServiceName(o.name, i), labels, ns, o.serverPort));
  }

  const upstreams = Array.from({ length: o.nodes }, (_, i) => ({ host: nodeServiceName(o.name, i), port: o.serverPort }));
  const lbLabels = labelsFor(o.name, 'lb');
  const confName = `${o.name}-nginx`;
  const cm: IConfigMap & K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(confName, lbLabels, ns), data: { 'nginx.conf': nginxConf(upstreams, o) } };
  objects.push(cm);
  const ngx = nginxContainer(o.nginxImage, confName);
  objects.push(deployment(lbServiceName(o.name), lbLabels, ns, { containers: [ngx.container], volumes: ngx.volumes }));
  objects.push(service(lbServiceName(o.name), lbLabels, ns, K8S_PORTS.lb));

  const notes = [
    `${o.nodes} ${o.serverImage ? `nodes of ${o.serverImage}` : `${o.server} reference nodes (${o.image})`} behind NGINX (${o.lbPolicy}), Redis ${o.redisImage}.`,
    `Clients connect to http://${lbServiceName(o.name)}:${K8S_PORTS.lb} inside the cluster (Service ${lbServiceName(o.name)}).`,
    o.jwtSecret === null
      ? `The nodes read ${JWT_SECRET_KEY} from the existing Secret ${o.jwtSecretName}.`
      : `The Secret ${o.jwtSecretName} holds the JWT secret the nodes verify and the load generators sign with.`,
    `Chaos on one node: kubectl delete pod -l wsbench.node=node-2 (its Deployment starts it again).`,
    `Apply: kubectl apply -f <this file or folder>; remove: kubectl delete -l app.kubernetes.io/instance=${o.name} deployment,service,configmap,secret`,
  ];
  return { kind: 'cluster', objects, notes };
}

