/**
 * The RunReport: the versioned, plain-JSON result of one wsbench run. Renderers are pure functions
 * of it. Bump SCHEMA_VERSION on any incompatible change and document every field in docs/report-format.md.
 */
export const SCHEMA_VERSION = 1;

/** Percentile summary of one HDR histogram. All values in the metric's unit (ms for latencies). */
export interface MetricSummary {
  unit: 'ms' | 'us' | 'count' | 'bytes' | 'percent';
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** Compressed HDR histogram (hdr-histogram-js encodeIntoCompressedBase64), values in microseconds. */
  hdr?: string;
}

/** Every expected (message × member) delivery, classified. */
export interface Accounting {
  /** Published messages × members of the room at publish time. */
  expected: number;
  /** Distinct expected deliveries that arrived. */
  received: number;
  /** Expected deliveries that never arrived. */
  lost: number;
  /** Arrivals of a (publisher, seq) the receiver had already received. */
  duplicated: number;
  /** Arrivals whose seq is lower than one already received from the same publisher. */
  reordered: number;
  /** received / expected (1 when nothing was expected). */
  deliveryRatio: number;
}

export type Verdict = 'pass' | 'fail' | 'error' | 'interrupted';

export interface TargetResult {
  /** Stable id, e.g. `latency-p99`. */
  id: string;
  /** What it checks, in words. */
  description: string;
  /** Path of the value in the report, e.g. `metrics.broadcast_latency_ms.p99`. */
  metric: string;
  op: '<=' | '<' | '>=' | '>' | '==';
  value: number;
  unit: string;
  /** The measured value (null when it could not be measured). */
  actual: number | null;
  /** pass | fail | unknown (unknown: not measured) | off (switched off by the user: not judged). */
  status: 'pass' | 'fail' | 'unknown' | 'off';
  /**
   * Where the promise comes from: seed document, its sentence (verbatim) and the section it sits
   * in; `config` (the config file's path, or `command line`) when the user set, added or switched it off.
   */
  source: { seed?: string; quote?: string; section?: string; config?: string };
  /** Present when a user flag (`--target id=value`) or config key replaced the seed's threshold. */
  override?: { seedValue: number };
  /** A failed latency target: whether stalls or a sustained breach failed it (docs/stability.md), e.g. "p99 53 ms: 1 stall of 1.0 s at +8 s (…)". */
  explanation?: string;
}

/** Seconds whose p99 jumped far above the run's typical second (docs/stability.md). */
export interface StallsReport {
  /** The rule: a stall second's p99 exceeds max(k × typical, typical + floorMs). */
  rule: { k: number; floorMs: number };
  /** Median of the seconds' p99 (seconds with at least 20 timed deliveries). */
  typicalP99Ms: number;
  thresholdMs: number;
  /** p99 of the deliveries intended in each second of the measured phase (s = 0 is its first second). */
  seconds: Array<{
    s: number;
    p99Ms: number | null;
    count: number;
    /** The per-node timeline: the same second's p50, p99 and count by the node the receivers sat on (node engine; absent in older reports). */
    nodes?: Record<string, { p50Ms: number | null; p99Ms: number | null; count: number }>;
  }>;
  /** Consecutive stall seconds, each with the busiest processes from its start until a second after its end (CPU from /proc). */
  stalls: Array<{
    fromS: number;
    seconds: number;
    peakP99Ms: number;
    busiest: Array<{ process: string; cpuPercent: number }>;
    /** Each receiving node's worst-second p50 and p99 inside the stall, worst median first (from `seconds[].nodes`). */
    receivers?: Array<{ node: string; p50Ms: number; p99Ms: number; count: number }>;
    /** The receiving nodes whose median delivery in a stall second was above the stall threshold: which node's receivers were behind. */
    behind?: string[];
  }>;
  /** Processes whose CPU was sampled every second (nodes, nginx, redis, generator workers; none a driver could not see). */
  cpuProcesses: string[];
}

export interface TimelinePoint {
  /** Seconds since the measured phase began (negative during warm-up). */
  t: number;
  /** Messages published in this second. */
  sent: number;
  /** Deliveries received in this second. */
  received: number;
  /** Open client connections at the end of this second. */
  connections: number;
  /** p99 latency (ms) of the deliveries received in this second, null if none. */
  p99Ms: number | null;
}

export interface WorkerHealth {
  worker: number;
  clients: number;
  /** Mean CPU use (percent of one core) over the measured window. */
  cpuPercentMean: number;
  cpuPercentMax: number;
  /** Event-loop delay p99 (ms) over the measured window. */
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** CPU µs the worker spent per delivery over the measured window. */
  cpuPerDeliveryUs?: number;
  /** Deliveries one broadcast lands on this worker. */
  burstSize?: number;
  /** Time the worker needs to drain one burst (burst × CPU per delivery): latency it adds itself. */
  burstServiceMs?: number;
  /** k6 engine: the k6 process's largest RSS over the measured window (bytes, from /proc). */
  rssBytesMax?: number | null;
  /**
   * Node engine: the worker's resident memory (bytes) after a forced GC, once RSS settled, at the
   * end of the measured window with every connection still open (broadcasts: after the drain;
   * connection-capacity: after the hold).
   */
  rssAfterGcBytes?: number;
  /**
   * (rssAfterGcBytes − the same reading before the first connection) / the worker's connections
   * (broadcasts: every client it holds, open or not at the end; connection-capacity: those open):
   * what a connection costs the generator under load, the run's own state included (per-second
   * histograms, the ledger — a longer run holds more; issue 17: ≤ 5 KiB). Null (unknown, not 0)
   * when RSS did not grow or there was no connection.
   */
  memoryPerConnectionBytes?: number | null;
}

export interface LossBreakdown {
  /** Lost although receiver and publisher were connected: the cluster's failure. */
  lostConnected: number;
  /** Lost while the receiver was disconnected (or in flight when it dropped). */
  lostDisconnected: number;
  /** Lost because the publisher's own connection was down when it sent. */
  lostPublisherDown: number;
  /**
   * Scheduled but never left the publisher (still queued at the end, or never pumped because the
   * publisher was stalled or disconnected). Expected like every scheduled delivery, so also lost.
   * Absent in older reports.
   */
  neverSent?: number;
  /** Received, but intended during a fault and arrived after it healed. */
  late: number;
}

/** Deliveries attributed to one node: as the node the receivers sat on, or the publishers published from. */
export interface NodeAttribution {
  node: string;
  /** Latency of the measured deliveries attributed to this node (no `hdr`). */
  latency_ms: MetricSummary;
  /** Expected deliveries (from the schedule), received, lost (never sent included), never sent, late. */
  expected: number;
  received: number;
  lost: number;
  neverSent: number;
  late: number;
}

/** Per-node attribution: which node's receivers, and which node's publishers, suffered. */
export interface PerNodeReport {
  /** By the node the receiving clients sat on (latency: at arrival; counts: where they joined). */
  receiving: NodeAttribution[];
  /** By the node the publishing clients sent through. */
  publishing: NodeAttribution[];
}

export interface WindowReport {
  /** ms since the measured phase began. */
  startMs: number;
  endMs: number;
  /** Latency of deliveries intended in this window (whole seconds inside it). */
  broadcast_latency_ms: MetricSummary;
  accounting: Accounting;
  /** Null when the node of some client is unknown (the split is not guessed). */
  sameNode: Accounting | null;
  crossNode: Accounting | null;
  /** The window's deliveries per receiving and per publishing node. Absent in older reports. */
  perNode?: PerNodeReport;
}

export interface ReconnectionReport {
  /** Client reconnection policy (socketio defaults or full-jitter). */
  policy: string;
  disconnections: number;
  reconnected: number;
  /** Clients that never came back before the run ended. */
  neverBack: number;
  attempts: number;
  failedAttempts: number;
  /**
   * socket.io runs: reconnections whose session the server resumed (connection state recovery,
   * `--adapter redis-streams`; always 0 with the pub/sub adapter). Absent in older reports.
   */
  recovered?: number;
  /** Messages the server replayed to the resumed sessions (what they missed while away). */
  messagesReplayed?: number;
  /** Per fault: how long until 99 % / 100 % of the clients it disconnected were back (rejoined). */
  faults: Array<{
    fault: string;
    policy: string;
    affected: number;
    backWithin99PercentMs: number | null;
    backWithin100PercentMs: number | null;
    /** Successful reconnections per 100 ms: the peak and the mean over the recovery. */
    acceptPer100msPeak: number;
    acceptPer100msMean: number;
    failedAttempts: number;
    /** Where the affected clients landed, node → count. */
    landedOn: Record<string, number>;
    /** socket.io runs: affected clients whose session the server resumed. */
    recovered?: number;
    /** reconnection-storm: ms from the drop until the load balancer accepted TCP connections again (observed; null: not seen). */
    lbAcceptedAfterMs?: number | null;
    /** reconnection-storm: time until 99 % / 100 % were back, counted from the LB's return instead of the drop. */
    backWithin99PercentFromReturnMs?: number | null;
    backWithin100PercentFromReturnMs?: number | null;
  }>;
  /**
   * reconnection-storm (`--storms N`): per policy, the storms' spread of the 100 % figure from the
   * drop and from the LB's return; targets judge the median storm (docs/stability.md).
   */
  storms?: Array<{
    policy: string;
    storms: number;
    fromDrop100PercentMs: { median: number | null; min: number | null; max: number | null };
    fromReturn100PercentMs: { median: number | null; min: number | null; max: number | null };
  }>;
}

/** What each connection costs, on every side (connection-capacity). Deltas: held minus baseline. */
export interface CapacityReport {
  connected: number;
  /** Failed connection attempts by cause: refused, timeout, http_<status> (e.g. 502 from nginx), auth, closed, error. */
  failuresByCause: Record<string, number>;
  pings: { ok: number; failed: number };
  nodes: Array<{ nodeId: string; connections: number; rssDeltaBytes: number | null; heapDeltaBytes: number | null; rssPerConnectionBytes: number | null; heapPerConnectionBytes: number | null }>;
  lb: { rssDeltaBytes: number | null; perConnectionBytes: number | null };
  redis: { rssDeltaBytes: number | null; perConnectionBytes: number | null };
  /**
   * Each worker's RSS growth (after GC) over its connections, as generator.workers[].memoryPerConnectionBytes
   * (null: RSS did not grow). connection-capacity's workers run with HOLDING_WORKER_NODE_FLAGS (a 2 MiB
   * young generation, glibc trimming freed memory): what a generator that only holds connections costs.
   */
  generator: Array<{ worker: number; clients: number; rssDeltaBytes: number; perConnectionBytes: number | null }>;
}

/** One security probe of `security-probes`: what it sent, what a secure node does, what this one did. */
export interface ProbeResult {
  /** Probe family: `auth`, `origin`, `size-limit`, `rate-limit`, `room-auth`, `slow-consumer`. */
  family: string;
  /** Stable id, `<family>/<case>`, e.g. `auth/expired`. */
  id: string;
  /** What the probe does. */
  description: string;
  /** The outcome that protects the node (refused at the handshake with …, closed with …, refused …). */
  expected: string;
  /** What happened. */
  observed: string;
  /** `pass`: the expected outcome; `fail`: the node let it through; `error`: the probe could not tell (counts as failed); `not-applicable`: the probe cannot be expressed through this server's protocol profile (the reason is in `observed`; never a pass — a family with no applicable probe is `unknown`). */
  status: 'pass' | 'fail' | 'error' | 'not-applicable';
  durationMs: number;
  /** Figures behind the verdict (bytes sent and received, RSS of the node, …). */
  details?: Record<string, number | string | null>;
}

/** The `security-probes` section: every probe, whether the nodes stayed up, other clients' latency meanwhile. */
export interface ProbesReport {
  /** When the probes ran, ms from the start of the measured phase (the `windows` clock). */
  startMs: number;
  endMs: number;
  results: ProbeResult[];
  /** Each node's health before and after the probes, and the 1 s scrapes that found it down during them. */
  nodes: Array<{ nodeId: string; upBefore: boolean; upAfter: boolean; downScrapes: number }>;
  /** Every node that was up before the probes answered every scrape during them and /health after them. */
  nodesStayedUp: boolean;
  /** The background broadcast's deliveries intended while the probes ran (window `probes`). */
  background: { connections: number; deliveries: number; lost: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
}

export interface NodeMetricsPoint {
  /** Seconds since the measured phase began. */
  t: number;
  nodes: Array<{ nodeId: string; up: boolean; connections: number | null; rssBytes: number | null; heapUsedBytes: number | null; eventLoopLagMs: number | null; publishTotal: number | null }>;
}

/** One value over repeated runs (`--repeat N`). null: not measured (in any run, or — for the median — in one of them). */
export interface Distribution {
  /** Each run's value, in run order (null where the run did not measure it). */
  values: Array<number | null>;
  median: number | null;
  min: number | null;
  max: number | null;
  /** max − min. */
  spread: number | null;
}

/** How targets are judged over repeated runs: the median of each value, the worst run's, or every run must pass. */
export type RepeatJudge = 'median' | 'worst' | 'every';

/** One of the repeated runs, compact: its figures without histograms, timeline or events. */
export interface RepeatRun {
  /** 1-based position among the runs. */
  run: number;
  startedAt: string;
  durationMs: number;
  verdict: Verdict;
  /** The run's latency summaries (without the `hdr` histogram). */
  metrics: Record<string, Omit<MetricSummary, 'hdr'>>;
  counters: Record<string, number>;
  accounting: RunReport['accounting'];
  /** Each target on this run alone. */
  targets: Array<Pick<TargetResult, 'id' | 'actual' | 'status'>>;
  /** Seconds of this run whose p99 was over the latency target (a stall shows here). */
  secondsOverTarget?: number[];
  error?: { code: string; message: string; hint?: string };
}

/** `--repeat N`: every run, how the targets were judged, and the distribution of every judged value. */
export interface RepeatReport {
  /** Runs asked for. */
  count: number;
  judge: RepeatJudge;
  /** True: a fresh cluster per run (`--fresh-cluster`); false: one cluster for every run. */
  freshCluster: boolean;
  /** The run whose figures the report's top-level fields hold (1-based; null when no run finished). */
  judgedRun: number | null;
  runs: RepeatRun[];
  /** Report path (`metrics.broadcast_latency_ms.p99`, `accounting.lost`, …) → its distribution over the runs. */
  distribution: Record<string, Distribution>;
}

export interface RunReport {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: 'wsbench'; version: string };
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  environment: {
    node: string;
    platform: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    totalMemBytes: number;
    hostname: string;
  };
  topology: {
    /** How the cluster was started: `local` processes, `docker` containers (testcontainers), or `external`: not by wsbench (`--url`). */
    driver: 'local' | 'docker' | 'external';
    /** Reference-server variant under test, or `custom`: the user's own server (`serverCommand` / `serverImage`). */
    server: 'socketio' | 'ws' | 'bun' | 'custom';
    /** `custom`, local driver: the command that started each node, as configured (placeholders unexpanded). */
    serverCommand?: string;
    /** `custom`, docker driver: the image each node ran. */
    serverImage?: string;
    /** How the variant spreads room messages over the nodes (e.g. `custom ioredis pub/sub`); absent in older reports. */
    adapter?: string;
    nodes: number;
    /** `external` (`--url`): whatever fronts the cluster wsbench did not start. */
    lb: 'nginx' | 'external';
    lbPolicy: string;
    redis: string;
    /** Component → version; empty when not known (a cluster wsbench did not start). */
    versions: Record<string, string>;
    /** `external`: the URL the clients connected to (`--url`, `--cluster`, or a k6-operator TestRun's target); absent in older reports. */
    url?: string;
    /** The load ran as a k6-operator TestRun's runners (`wsbench merge --k6-operator`), not in a wsbench process. */
    k6Operator?: { testRun: string; runners: number; runnerImage?: string };
    /** Server settings the harness changed from the seed defaults, and why. */
    overrides: Array<{ setting: string; value: string | number; seedDefault: string | number; why: string }>;
  };
  scenario: { name: string; describe: string };
  /** The scenario's options as resolved (defaults < config file < flags). */
  options: Record<string, unknown>;
  /** The run's effective config (defaults < config file < flags; config/schema.ts EffectiveConfig), as `--dry-run` prints it; absent in older reports. */
  config?: Record<string, unknown>;
  /** name → summary. Latencies: broadcast_latency_ms, broadcast_latency_same_node_ms, broadcast_latency_cross_node_ms, connect_time_ms. */
  metrics: Record<string, MetricSummary>;
  counters: Record<string, number>;
  accounting: Accounting & {
    /** Null when the node of some client is unknown (no welcome, no load-balancer header): the split is not guessed. */
    sameNode: Accounting | null;
    crossNode: Accounting | null;
    /** Lost deliveries classified: never sent, or by who was disconnected (every broadcast scenario). */
    losses?: LossBreakdown & { sameNode: LossBreakdown | null; crossNode: LossBreakdown | null };
  };
  /** Latency and loss per receiving and per publishing node (broadcast scenarios). */
  perNode?: PerNodeReport;
  /** Connections per node id (from each client's `welcome`). */
  connectionsPerNode: Record<string, number>;
  timeline: TimelinePoint[];
  /** Chaos actions and phase changes, ms since startedAt. */
  events: Array<{ atMs: number; type: string; detail?: string; outcome?: 'ok' | 'fail' | 'unknown'; endMs?: number; target?: string }>;
  /** Per-window figures (before / during / after each fault), by window name. */
  windows?: Record<string, WindowReport>;
  /** Disconnections and reconnections of the generator's clients (scenarios with faults). */
  reconnection?: ReconnectionReport;
  /** The steps of `throughput --find-capacity` and the knee. */
  capacitySearch?: {
    limits: { p99Ms: number; maxLost: number };
    /** How the search ran (docs/stability.md): warm-up seconds, samples a step's p99 must rest on, retries of a broken step, runs per attempt. Absent in older reports. */
    rules?: { searchWarmupS: number; minSamples: number; stepRetries: number; stepRepeats: number };
    /** The unjudged warm-up at the first step's rate, before the search. */
    warmup?: { offeredPerSec: number; seconds: number; p99Ms: number; lost: number };
    steps: Array<{
      offeredPerSec: number;
      achievedPerSec: number;
      p50Ms: number;
      p99Ms: number;
      /** Timed deliveries the step's percentiles rest on. */
      samples?: number;
      lost: number;
      duplicated: number;
      reordered: number;
      generatorBound: boolean;
      broke: string[];
      /** Runs of this step (retries and repeats); absent: one. */
      attempts?: number;
      /** Runs that did not decide the step (a broken try the retry overruled; the non-median repeats). */
      discarded?: Array<{ p50Ms: number; p99Ms: number; lost: number; samples?: number; broke: string[] }>;
    }>;
    /** Offered deliveries/s of the last step that held and of the first that broke (null: none). */
    knee: { lastGoodPerSec: number | null; firstBadPerSec: number | null };
  };
  /** Cost per connection on every side (connection-capacity). */
  capacity?: CapacityReport;
  /** Broadcast scenarios: per-second p99 and the stalls in it, with what was busy then. */
  stalls?: StallsReport;
  /** Each node's /metrics, scraped every second. */
  nodeMetrics?: NodeMetricsPoint[];
  /** security-probes: every probe, expected vs observed, node health and background latency during them. */
  probes?: ProbesReport;
  generator: {
    workers: WorkerHealth[];
    /** True when a worker was saturated for most of the measured window: results not trustworthy. */
    bottleneck: boolean;
    notes: string[];
    /**
     * Broadcast scenarios (Node engine): the latency wsbench's own receive path adds to what it
     * reports, from the run's figures. A worker serves a burst of B deliveries one after another at
     * c µs of CPU each, so the k-th is recorded k × c late: ≈ (B + 1) / 2 × c at the median, B × c
     * at most (`burstServiceMs`). An upper bound: the CPU per delivery includes the worker's fixed
     * costs (ticks, pings), which dominate at low rates. The worst worker's; absent when no worker
     * measured its CPU per delivery. `wsbench calibrate`'s wire check measures the same overhead directly (socket → recorded).
     */
    measurementError?: { p50Ms: number; maxMs: number; worker: number };
    /**
     * k6 engine: the k6 process read from /proc every second (t: seconds since the measured phase
     * began, the nodeMetrics clock; CPU in percent of one core). Absent for the Node engine.
     */
    processSamples?: Array<{ t: number; worker: number; cpuPercent: number; rssBytes: number | null }>;
  };
  targets: TargetResult[];
  verdict: Verdict;
  /** `--repeat N` (N > 1): every run and the distribution of each judged value; targets are judged on it. */
  repeat?: RepeatReport;
  /** Set when verdict is error or interrupted. */
  error?: { code: string; message: string; hint?: string };
}
