/**
 * What a worker's connection does with its compiled protocol profile (load/profile.ts) beyond the
 * receive path: join a room as the profile says, learn its node from the load balancer's upstream
 * header, and keep the first frames received for WSB_PROTOCOL_MISMATCH.
 */
import { ClientCore } from './client-core.js';
import type { CompiledProfile } from './profile.js';
import type { ProtocolClient } from './protocol-client.js';

/** Why a connect failed when the profile did not fit (the connect cause `protocol`). */
export class ProfileError extends Error {}

/**
 * The node a connection landed on: the load balancer's `X-Wsbench-Upstream` (`host:port`) mapped
 * to a node id by its port; null (unknown) without the header or a mapping.
 */
export function nodeFromUpstream(client: ProtocolClient, nodePorts: Record<string, string>): string | null {
  const up = client.upstream;
  if (up === null) return null;
  // `$upstream_addr` lists every upstream tried ("a:1, b:2"): the last one answered.
  const last = up.split(',').pop()!.trim();
  return nodePorts[last.slice(last.lastIndexOf(':') + 1)] ?? null;
}

/** What joinWithProfile needs of a client's state: where a JSON reply frame is handed over. */
/** What one event of a profile connection is: a room message, a welcome, a reply to a waiting join, or nothing of ours. */
export type EventKind = 'message' | 'welcome' | 'join-reply' | 'other';

/**
 * Classifies one event as the profile says. A welcome-shaped frame is a welcome whenever it comes —
 * the first one or a later one — so it never satisfies a join's wait for its reply.
 */
export function classifyEvent(P: { isMessage: CompiledProfile['isMessage']; welcome: CompiledProfile['welcome']; join: Pick<CompiledProfile['join'], 'isReply'> }, event: string, data: unknown, joinWaiting: boolean): EventKind {
  if (P.isMessage(event, data)) return 'message';
  if (P.welcome !== null && P.welcome.is(event, data)) return 'welcome';
  if (joinWaiting && P.join.isReply !== null && P.join.isReply(data)) return 'join-reply';
  return 'other';
}

export interface JoinWaiter {
  joinWait: ((reply: unknown) => void) | null;
}

/**
 * Joins `room` as profile `P` says: a Socket.IO event with an ack callback, a JSON frame confirmed
 * by a reply frame (the worker's frame handler calls `state.joinWait`), or a frame sent without
 * confirmation. Resolves with null on success, else why not (refused, or no answer in `timeoutMs`).
 */
export async function joinWithProfile(P: CompiledProfile, state: JoinWaiter, client: ProtocolClient, room: string, timeoutMs: number): Promise<string | null> {
  const j = P.join;
  if (j.ack) {
    const ack = await client.requestWithAck((id) => j.text(room, id), 'join', timeoutMs);
    return j.ok(ack) ? null : `refused: ${JSON.stringify(ack) ?? 'no ack data'}`;
  }
  if (j.isReply === null) return client.sendRaw(j.text(room, 0)) ? null : 'not_connected';
  let timer: NodeJS.Timeout | undefined;
  const reply = new Promise<unknown>((resolve) => {
    state.joinWait = resolve;
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  if (!client.sendRaw(j.text(room, 0))) {
    clearTimeout(timer);
    state.joinWait = null;
    return 'not_connected';
  }
  const got = await reply;
  clearTimeout(timer);
  state.joinWait = null;
  if (got === undefined) return `no reply matching the profile within ${timeoutMs} ms`;
  return j.ok(got) ? null : `refused: ${JSON.stringify(got)}`;
}

/**
 * The first frames any client of this process received, raw and truncated, through
 * ClientCore.frameTap: `arm()` keeps the next `keep` frames (at the start, and again once
 * publishing begins, for the room messages a receive rule should have matched); after that the tap
 * is off (one null check per frame).
 */
export class FrameTap {
  private readonly seen: string[] = [];
  private sent = 0;
  private limit = 0;
  private readonly tap = (text: string): void => {
    this.seen.push(text.length > 200 ? `${text.slice(0, 200)}…` : text);
    if (this.seen.length >= this.limit) ClientCore.frameTap = null;
  };

  constructor(private readonly keep = 12) {}

  arm(): void {
    this.limit = this.seen.length + this.keep;
    ClientCore.frameTap = this.tap;
  }

  /** Every frame kept so far. */
  all(): string[] {
    return this.seen.slice();
  }

  /** The frames kept since the last call (undefined: none). */
  fresh(): string[] | undefined {
    if (this.sent === this.seen.length) return undefined;
    const out = this.seen.slice(this.sent);
    this.sent = this.seen.length;
    return out;
  }
}
