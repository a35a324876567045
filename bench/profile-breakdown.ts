/**
 * Where a receiving process's time goes (issue 17, part 1): a CPU profile of one window, its
 * self time grouped by what the code does, and the window's GC time and allocation.
 *
 * The profile is V8's sampling profiler (the one `node --cpu-prof` writes), started and stopped
 * in the receiving process over the inspector protocol, so it covers one receive window and not
 * the connect storm before it. Builtins such as JSON.parse have no frame of their own: their time
 * is the calling function's self time (so `parse` holds the client's framing and its JSON.parse).
 */
import { Session } from 'node:inspector';
import v8 from 'node:v8';

export type Category = 'socket/framing' | 'http upgrade' | 'parse' | 'crypto' | 'ledger' | 'histogram' | 'receive path' | 'event loop' | 'GC' | 'native/program' | 'bench' | 'other';
export const CATEGORIES: readonly Category[] = ['socket/framing', 'http upgrade', 'parse', 'crypto', 'ledger', 'histogram', 'receive path', 'event loop', 'GC', 'native/program', 'bench', 'other'];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Which job a profiled function does, from its script URL and name. */
export function categorize(functionName: string, url: string): Category | 'idle' {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  if (url === '' && functionName === 'dispatch') return 'bench'; // the inspector session: the profiler itself
  if (url === '') return 'native/program'; // (program), (root), natives without a script
  if (/^node:(_http|http|url)|node:internal\/(http|url)/.test(url)) return 'http upgrade';
  if (/^node:crypto|node:internal\/crypto/.test(url)) return 'crypto';
  if (/\/node_modules\/ws\//.test(url)) return 'socket/framing';
  if (/^node:(net|stream|buffer|string_decoder)|node:internal\/(stream_base_commons|streams|buffer|net)/.test(url)) return 'socket/framing';
  if (/node_modules\/(socket\.io-client|engine\.io-client|engine\.io-parser|socket\.io-parser|@socket\.io)\//.test(url)) return 'parse';
  if (/load\/(sio-client|client-core|ws-client|profile)\.js/.test(url)) return 'parse';
  if (/load\/delivery-ledger\.js/.test(url)) return 'ledger';
  if (/hdr-histogram-js|load\/histogram-record\.js|model\/histogram\.js/.test(url)) return 'histogram';
  if (/load\/arrival-recorder\.js|common\/clock\.js/.test(url)) return 'receive path';
  if (/^node:(events|timers)|node:internal\/(timers|process|async_hooks|event_target|perf)/.test(url)) return 'event loop';
  if (functionName === 'onBareMessage') return 'parse'; // bare ws's listener: its JSON.parse, inlined
  if (/\/bench\//.test(url)) return 'bench';
  return 'other';
}

export interface Breakdown {
  /** Profiled wall time and the non-idle (sampled busy) time, µs. */
  wallUs: number;
  busyUs: number;
  deliveries: number;
  /** Self time per category, µs per delivery. */
  perDeliveryUs: Record<Category, number>;
  /** The top functions by self time: name, script (file name only), category, µs per delivery. */
  top: Array<{ fn: string; script: string; category: Category; usPerDelivery: number }>;
}

export function summarise(p: CpuProfile, deliveries: number, topN = 8): Breakdown {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  // The first and last samples carry the profiler's own start and stop (inspector dispatch): left out.
  for (let i = 1; i < samples.length - 1; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + (deltas[i] ?? 0));
  const perCat = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const perFn = new Map<string, { fn: string; script: string; category: Category; us: number }>();
  let busy = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const c = categorize(functionName, url);
    if (c === 'idle') continue;
    busy += us;
    perCat[c] += us;
    const script = url.split('/').pop() ?? '';
    const key = `${functionName}@${url}:${lineNumber}`;
    const e = perFn.get(key) ?? { fn: functionName || '(anonymous)', script, category: c, us: 0 };
    e.us += us;
    perFn.set(key, e);
  }
  const d = Math.max(1, deliveries);
  for (const c of CATEGORIES) perCat[c] /= d;
  const top = [...perFn.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ fn: e.fn, script: e.script, category: e.category, usPerDelivery: e.us / d }));
  return { wallUs: p.endTime - p.startTime, busyUs: busy, deliveries, perDeliveryUs: perCat, top };
}

/** In-process CPU profiler (the inspector's Profiler domain). */
export class InProcessProfiler {
  private session: Session | null = null;

  private post<T>(method: string, params?: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
  }

  async start(intervalUs = 200): Promise<void> {
    this.session = new Session();
    this.session.connect();
    await this.post('Profiler.enable');
    await this.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.post('Profiler.start');
  }

  async stop(): Promise<CpuProfile> {
    const { profile } = await this.post<{ profile: CpuProfile }>('Profiler.stop');
    await this.post('Profiler.disable');
    this.session!.disconnect();
    this.session = null;
    return profile;
  }
}

/** GC and allocation over a window: collections, their pause time, and the bytes allocated in the V8 heap. */
export interface GcWindow {
  gcCount: number;
  /** Scavenges (young generation) among them. */
  scavenges: number;
  gcUs: number;
  allocBytes: number;
}

/**
 * v8.GCProfiler from one mark to the next: allocated = heap used at the end − at the start + what
 * every collection in between freed (before − after). `next()` closes the window and opens the
 * next one.
 */
export class GcMeter {
  private profiler: v8.GCProfiler | null = null;
  private usedAtStart = 0;

  next(): GcWindow | null {
    const used = v8.getHeapStatistics().used_heap_size;
    let out: GcWindow | null = null;
    if (this.profiler !== null) {
      const r = this.profiler.stop() as unknown as {
        statistics: Array<{ gcType: string; cost: number; beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }>;
      };
      let freed = 0;
      let gcUs = 0;
      let scavenges = 0;
      for (const s of r.statistics) {
        freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
        gcUs += s.cost;
        if (s.gcType === 'Scavenge') scavenges++;
      }
      out = { gcCount: r.statistics.length, scavenges, gcUs, allocBytes: used - this.usedAtStart + freed };
    }
    this.profiler = new v8.GCProfiler();
    this.profiler.start();
    this.usedAtStart = v8.getHeapStatistics().used_heap_size;
    return out;
  }
}
