/**
 * The keys of a cluster the user runs (`url`, issue 14 part 3): `tls` (a CA to trust, or
 * `insecure`) and `chaos.hooks` (the user's commands for chaos actions), their flags (`--ca`,
 * `--insecure`), and the checks against the scenario: every chaos action it will take needs its
 * hook, refused before anything starts (WSB_CHAOS_HOOK_MISSING, exit 2).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { WsbenchError } from '../common/errors.js';
import type { ClientTls } from '../common/tls.js';
import { ACTION_HOOKS, HOOK_KEYS, type ChaosHooks, type HookKey } from '../cluster/chaos-hooks.js';
import type { ChaosAction } from '../cluster/chaos.js';
import { isTlsUrl } from '../cluster/external-driver.js';
import type { Scenario } from '../scenarios/define.js';

const hooksShape = Object.fromEntries(HOOK_KEYS.map((k) => [k, z.string().min(1).optional()])) as Record<HookKey, z.ZodOptional<z.ZodString>>;

export const externalShape = {
  /** `url` over wss:// / https://: `ca` (a PEM file) to trust, or `insecure: true` to skip verification. */
  tls: z.object({ ca: z.string().min(1).optional(), insecure: z.boolean().optional() }).strict().optional(),
  /** `url`: `hooks`, the user's shell commands per chaos action (placeholders {node} {nodeUrl} {index}). */
  chaos: z.object({ hooks: z.object(hooksShape).strict().optional() }).strict().optional(),
};

export const EXTERNAL_FLAGS = { tls: '--ca/--insecure', chaos: 'chaos.hooks (config only)' } as const;

/** The config form of `tls` and `chaos`. */
export interface TlsConfig {
  /** PEM file of the CA that signed the cluster's certificate (relative to the current directory). */
  ca?: string;
  /** Do not verify the certificate at all (the report says so). */
  insecure?: boolean;
}
export interface ChaosConfig {
  hooks?: ChaosHooks;
}

/** `--ca <file>` / `--insecure` as the `tls` key of the flags layer (undefined when neither is given). */
export function tlsFromFlags(flags: { ca?: unknown; insecure?: unknown }): TlsConfig | undefined {
  if (flags.ca === undefined && flags.insecure === undefined) return undefined;
  return { ...(flags.ca !== undefined ? { ca: flags.ca as string } : {}), ...(flags.insecure !== undefined ? { insecure: flags.insecure as boolean } : {}) };
}

/**
 * The chaos actions a scenario will take with these options (the hooks it needs against `--url`);
 * undefined for a scenario that controls the cluster in a way hooks do not cover.
 */
export function chaosActionsOf(scenario: Scenario<any>, o: Record<string, unknown>): ChaosAction['type'][] | undefined {
  switch (scenario.name) {
    case 'node-kill':
      return o.restartAfter !== undefined ? ['kill-node', 'start-node'] : ['kill-node'];
    case 'rolling-restart':
      return ['stop-node', 'start-node'];
    case 'redis-outage':
      return ['stop-redis', 'start-redis'];
    case 'reconnection-storm':
      return ['stop-lb', 'start-lb'];
    case 'cross-node-broadcast':
      return o.pauseNode !== undefined ? ['pause-node', 'resume-node'] : [];
    default:
      return scenario.needsClusterControl ? undefined : [];
  }
}

export interface ResolvedExternal {
  tls?: ClientTls;
  hooks?: ChaosHooks;
  notes: string[];
}

/**
 * Checks `tls` and `chaos` against the URLs and the engine (problems by key, through `problem`) and
 * reads the CA file. `url` undefined: both keys must be absent.
 */
export function resolveExternal(
  input: { url?: string; nodeUrls: string[]; tls?: TlsConfig; chaos?: ChaosConfig; engine: 'node' | 'k6' },
  problem: (key: 'tls' | 'chaos', text: string) => void,
): ResolvedExternal {
  const { url, tls, chaos } = input;
  const notes: string[] = [];
  if (url === undefined) {
    if (tls !== undefined) problem('tls', 'only applies with --url (a cluster wsbench did not start; its own clusters are plain ws:// on loopback)');
    if (chaos?.hooks !== undefined) problem('chaos', 'chaos.hooks only applies with --url (wsbench acts on the clusters it starts itself)');
    return { notes };
  }
  let ca: string | undefined;
  if (tls !== undefined) {
    if (![url, ...input.nodeUrls].some(isTlsUrl)) problem('tls', `only applies to wss:// or https:// URLs (got ${url})`);
    if (tls.ca !== undefined && tls.insecure) problem('tls', 'give either ca or insecure, not both');
    if (tls.ca !== undefined) {
      try {
        ca = readFileSync(tls.ca, 'utf8');
        if (!ca.includes('-----BEGIN CERTIFICATE-----')) problem('tls', `ca: ${tls.ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      } catch (e) {
        problem('tls', `ca: cannot read ${tls.ca} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    if (input.engine === 'k6') problem('tls', 'the k6 engine is not given a CA or told to skip verification by wsbench; use --engine node');
  }
  const clientTls: ClientTls | undefined = tls === undefined ? undefined : tls.insecure ? { rejectUnauthorized: false } : { ...(ca !== undefined ? { ca } : {}), rejectUnauthorized: true };
  if (tls?.insecure) notes.push(`INSECURE TLS (--insecure / tls.insecure): the certificate of ${url} was NOT verified`);
  return { ...(clientTls ? { tls: clientTls } : {}), ...(chaos?.hooks ? { hooks: chaos.hooks } : {}), notes };
}

/**
 * Against `--url`, every chaos action the scenario will take must have its hook; refused before
 * anything starts with WSB_CHAOS_HOOK_MISSING naming the action and the config key. Node actions
 * also need `--node-urls` (to name the nodes and watch each hook's effect).
 */
export function checkChaosHooks(scenario: Scenario<any>, options: Record<string, unknown>, hooks: ChaosHooks | undefined, nodeUrls: string[]): void {
  const actions = chaosActionsOf(scenario, options);
  if (actions === undefined) {
    throw new WsbenchError('WSB_EXTERNAL_UNSUPPORTED', `${scenario.name} ${scenario.needsClusterControl}, which wsbench cannot do to a cluster it did not start (--url)`, {
      hint: 'drop --url to let wsbench start its own cluster',
    });
  }
  const missing = actions.flatMap((a) => ACTION_HOOKS[a].filter((k) => hooks?.[k] === undefined).map((k) => ({ action: a, key: k })));
  if (missing.length) {
    throw new WsbenchError(
      'WSB_CHAOS_HOOK_MISSING',
      `${scenario.name} needs ${missing.map((m) => `${m.action} (chaos.hooks.${m.key})`).join(', ')}, and the cluster was not started by wsbench (--url): no hook is set for ${missing.length === 1 ? 'it' : 'them'}`,
      {
        hint: `set ${missing.map((m) => `chaos.hooks.${m.key}`).join(', ')} in the config: a shell command per action, e.g. killNode: "kubectl delete pod {node} --grace-period=0" (placeholders {node} {nodeUrl} {index}); or drop --url`,
      },
    );
  }
  if (actions.some((a) => a.endsWith('-node')) && nodeUrls.length === 0) {
    throw new WsbenchError('WSB_INVALID_OPTION', `${scenario.name} acts on a node through chaos.hooks, and no --node-urls were given`, {
      hint: "give --node-urls (each node's own URL): wsbench names the nodes by their /health and watches each hook's effect there",
    });
  }
}
