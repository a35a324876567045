/**
 * A latency histogram's non-zero counts as compact bytes (SparseCounts), and adding them back:
 * how the receive path keeps a sealed second (load/arrival-recorder.ts). Beside the other
 * histogram encodings (model/histogram.ts).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Histogram } from 'hdr-histogram-js';

/**
 * A histogram's non-zero counts, as a sealed second of the receive path keeps them
 * (load/arrival-recorder.ts): for every non-zero bucket, the gap from the previous one and its
 * count, as LEB128 varints (2–3 bytes a bucket), raw-deflated at level 1 above DEFLATE_FROM
 * bytes, and the histogram's total, min and max — what `add()` reads. Taking it is one scan of the
 * counts and a fast deflate (≈ 0.05–0.25 ms for 1,000–20,000 values; its bytes about the encoded
 * histogram's); packing the same histogram into a compact (packed-array) one cost 2–4 ms and
 * encoding it 0.1–0.6 ms, once per second per histogram (`npm run bench`'s profile:
 * `getPackedIndex` up to a tenth of the lean client's receive time, issue 17).
 */
export interface SparseCounts {
  bytes: Uint8Array;
  deflated: boolean;
  total: number;
  min: number;
  max: number;
}

/** Smaller sparse counts are kept as they are (deflate would save little). */
const DEFLATE_FROM = 512;

/** The parts of hdr-histogram-js's JsHistogram that `add()` is made of. */
interface AddInternals {
  countsArrayLength: number;
  getCountAtIndex(index: number): number;
  addToCountAtIndex(index: number, value: number): void;
  setTotalCount(value: number): void;
  updatedMaxValue(value: number): void;
  updateMinNonZeroValue(value: number): void;
}

/** Scratch space of sparseCounts: two varints of at most 8 bytes per bucket (counts below 2^53). */
let scratch = new Uint8Array(0);

function putVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 128) {
    out[at++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

/** The non-zero counts of `h` (model/histogram.ts's latency configuration, dense or packed). */
export function sparseCounts(h: Histogram): SparseCounts {
  const x = h as unknown as AddInternals;
  const n = x.countsArrayLength;
  if (scratch.length < n * 16) scratch = new Uint8Array(n * 16);
  const out = scratch;
  let at = 0;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const c = x.getCountAtIndex(i);
    if (c !== 0) {
      at = putVarint(out, at, i - prev - 1);
      at = putVarint(out, at, c);
      prev = i;
    }
  }
  const deflated = at >= DEFLATE_FROM;
  const bytes = deflated ? deflateRawSync(out.subarray(0, at), { level: 1 }) : out.slice(0, at);
  return { bytes, deflated, total: h.totalCount, min: h.minNonZeroValue, max: h.maxValue };
}

/** `into.add(h)` for the histogram `s` was taken from (`into` with the same configuration). */
export function addSparse(into: Histogram, s: SparseCounts): void {
  if (s.bytes.length === 0) return;
  const b = s.deflated ? inflateRawSync(s.bytes) : s.bytes;
  const x = into as unknown as AddInternals;
  let at = 0;
  let index = -1;
  while (at < b.length) {
    let gap = 0;
    let scale = 1;
    for (let v = b[at++]; ; v = b[at++]) {
      gap += (v & 127) * scale;
      if (v < 128) break;
      scale *= 128;
    }
    let count = 0;
    scale = 1;
    for (let v = b[at++]; ; v = b[at++]) {
      count += (v & 127) * scale;
      if (v < 128) break;
      scale *= 128;
    }
    index += gap + 1;
    x.addToCountAtIndex(index, count);
  }
  x.setTotalCount(into.totalCount + s.total);
  x.updatedMaxValue(Math.max(into.maxValue, s.max));
  x.updateMinNonZeroValue(Math.min(into.minNonZeroValue, s.min));
}
