/**
 * `node dist/bench/heap-diff.js A.heapsnapshot B.heapsnapshot <connections between them>`: what a
 * connection holds, by V8 heap object type (constructor or string/array/code kind), from two heap
 * snapshots of the same process (BENCH_HEAP_SNAPSHOT=<dir> makes the bench's memory phase write one
 * at N1 and one at N2). Prints bytes and objects per connection of the types that grew most.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per type name: objects by constructor name, the rest by V8 node type. */
export function byType(file: string): Map<string, { bytes: number; count: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const t = types[s.nodes[i + iType]];
    const key = t === 'object' || t === 'closure' ? `${t === 'closure' ? 'closure ' : ''}${s.strings[s.nodes[i + iName]]}` : `(${t})`;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += s.nodes[i + iSize];
    e.count++;
    out.set(key, e);
  }
  return out;
}

function main(): void {
  const [a, b, n] = process.argv.slice(2);
  if (a === undefined || b === undefined || n === undefined) {
    process.stderr.write('usage: heap-diff A.heapsnapshot B.heapsnapshot CONNECTIONS\n');
    process.exit(2);
  }
  const conns = Number(n);
  const x = byType(a);
  const y = byType(b);
  const rows = [...y].map(([k, v]) => ({ k, bytes: (v.bytes - (x.get(k)?.bytes ?? 0)) / conns, count: (v.count - (x.get(k)?.count ?? 0)) / conns }));
  rows.sort((p, q) => q.bytes - p.bytes);
  const total = rows.reduce((acc, r) => acc + r.bytes, 0);
  process.stdout.write(`heap per connection: ${total.toFixed(0)} B\n`);
  for (const r of rows.slice(0, 30)) process.stdout.write(`${r.bytes.toFixed(1).padStart(9)} B ${r.count.toFixed(2).padStart(7)} objects  ${r.k}\n`);
}

if (process.argv[1]?.endsWith('heap-diff.js')) main();
