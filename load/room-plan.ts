/** One client's part in a broadcast run. */
export interface Assignment {
  id: number;
  room: string;
  role: 'member' | 'publisher';
}

export const roomName = (r: number): string => `room-${r + 1}`;

/**
 * Assigns connected clients to rooms so that every room has members on every node and publishers
 * sit on different nodes. Publishers are taken from the clients interleaved by node (n1, n2, n3,
 * n1, …), room by room; each node's remaining clients are then dealt round-robin over the rooms
 * starting at a node-specific offset, so with at least `rooms` members per node every room has
 * members on every node, whatever the number of rooms.
 *
 * `group` (the load-generator worker holding the client): each node's clients are interleaved by
 * group (g0, g1, g0, g1, …) before publishers are taken, so the publishers — and the sending work —
 * spread over the workers instead of all landing on the first one.
 */
export function planRooms(
  clients: Array<{ id: number; nodeId: string; group?: number }>,
  opts: { rooms: number; publishersPerRoom: number; roomNames?: string[] },
): Assignment[] {
  // A shard runs some rooms of a bigger plan under their names in that plan (load/shard-plan.ts).
  const nameOf = (r: number) => opts.roomNames?.[r] ?? roomName(r);
  const byNode = new Map<string, Array<{ id: number; group: number }>>();
  for (const c of clients) {
    const list = byNode.get(c.nodeId) ?? [];
    list.push({ id: c.id, group: c.group ?? 0 });
    byNode.set(c.nodeId, list);
  }
  const groups = [...new Set(clients.map((c) => c.group ?? 0))].sort((a, b) => a - b);
  // Node k starts its rotation at group k, so the publishers taken across nodes alternate too.
  const interleave = (l: Array<{ id: number; group: number }>, k: number): number[] => {
    const rank = new Map<number, number>();
    const keyed = l.map((c, i) => {
      const r = rank.get(c.group) ?? 0;
      rank.set(c.group, r + 1);
      const turn = (groups.indexOf(c.group) - k + groups.length * (k + 1)) % groups.length;
      return { id: c.id, turn, r, i };
    });
    keyed.sort((a, b) => a.r - b.r || a.turn - b.turn || a.i - b.i);
    return keyed.map((c) => c.id);
  };
  const lists = [...byNode.keys()].sort().map((k, i) => interleave(byNode.get(k)!, i));
  const publishers = Math.min(clients.length, opts.rooms * opts.publishersPerRoom);
  const out: Assignment[] = [];
  const taken = new Set<number>();
  for (let i = 0; out.length < publishers; i++) {
    for (const l of lists) {
      if (out.length >= publishers) break;
      if (i < l.length) {
        out.push({ id: l[i], room: nameOf(out.length % opts.rooms), role: 'publisher' });
        taken.add(l[i]);
      }
    }
  }
  let offset = 0;
  lists.forEach((l) => {
    let j = 0;
    for (const id of l) {
      if (taken.has(id)) continue;
      out.push({ id, room: nameOf((offset + j) % opts.rooms), role: 'member' });
      j++;
    }
    // Continue where this node stopped so room sizes stay even across nodes.
    offset = (offset + j) % opts.rooms;
  });
  return out;
}

/**
 * "X of Y room joins failed; first: …": Y counts every join the plan makes — each member's, and
 * each publisher's when the profile's publishers join their room first (`publish.join`) — since a
 * publisher's failed join is among the X.
 */
export function joinFailureText(failures: Array<{ id: number; room: string; error: string }>, assignments: Assignment[], publisherJoins: boolean): string {
  const joins = assignments.filter((a) => a.role === 'member' || publisherJoins).length;
  const pubIds = new Set(assignments.filter((a) => a.role === 'publisher').map((a) => a.id));
  const pubFailed = publisherJoins ? failures.filter((f) => pubIds.has(f.id)).length : 0;
  const which = pubFailed ? ` (${pubFailed} of them publishers')` : '';
  return `${failures.length} of ${joins} room joins failed${which}; first: ${failures[0].error} (room ${failures[0].room})`;
}
