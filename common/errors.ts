/**
 * Every error wsbench reports to a user carries a stable code (listed in docs/cli.md), a hint that
 * names what to change, and the process exit code it maps to (2: the harness itself failed).
 */
export type ErrorCode =
  | 'WSB_UNKNOWN_SCENARIO'
  | 'WSB_INVALID_OPTION'
  | 'WSB_CONFIG_INVALID'
  | 'WSB_MISSING_BINARY'
  | 'WSB_SETUP_FAILED'
  | 'WSB_PORT_IN_USE'
  | 'WSB_PROCESS_EXITED'
  | 'WSB_NODE_NOT_READY'
  | 'WSB_SERVER_NOT_READY'
  | 'WSB_REDIS_NOT_READY'
  | 'WSB_LB_NOT_READY'
  | 'WSB_DOCKER_UNAVAILABLE'
  | 'WSB_IMAGE_MISSING'
  | 'WSB_CONTAINER_FAILED'
  | 'WSB_CONNECT_FAILED'
  | 'WSB_JOIN_FAILED'
  | 'WSB_PROTOCOL_MISMATCH'
  | 'WSB_LB_UNBALANCED'
  | 'WSB_WORKER_FAILED'
  | 'WSB_INTERRUPTED'
  | 'WSB_REPORT_WRITE_FAILED'
  | 'WSB_REPORT_INVALID'
  | 'WSB_COMPARE_INVALID'
  | 'WSB_K6_NOT_FOUND'
  | 'WSB_K6_FAILED'
  | 'WSB_TARGET_UNREACHABLE'
  | 'WSB_EXTERNAL_UNSUPPORTED'
  | 'WSB_CHAOS_HOOK_MISSING'
  | 'WSB_TLS_FAILED'
  | 'WSB_CAPTURE_FAILED'
  | 'WSB_CLUSTER_NOT_FOUND'
  | 'WSB_CLUSTER_FAILED'
  | 'WSB_SHARD_START_MISSED'
  | 'WSB_MERGE_INVALID'
  | 'WSB_MERGE_MIXED_PLANS'
  | 'WSB_MERGE_MISSING_SHARD'
  | 'WSB_OUT_UNUSABLE'
  | 'WSB_INTERNAL';

export class WsbenchError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WsbenchError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 2;
  }
}

export function isWsbenchError(e: unknown): e is WsbenchError {
  return e instanceof WsbenchError;
}
