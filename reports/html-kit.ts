/**
 * The HTML report's building blocks: escaping, number formatting, tables and sections. Pure
 * functions shared by the section renderers (reports/html-*-sections.ts, reports/html-repeats.ts).
 */
import type { TargetResult } from '../model/run-report.js';
import { formatInt, formatNum } from './console.js';
import type { ChartSpec } from './chart-data.js';

/** `&`, `<`, `>`, `"`, `'` as entities: safe in text and in double- or single-quoted attributes. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that is safe inside `<script type="application/json">`: `<`, `>`, `&` and the JS line
 * separators escaped as `\uXXXX`, so no string in it can close the script element.
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function fmtValue(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const s = Number.isInteger(n) ? formatInt(n) : formatNum(n, 2);
  return unit && unit !== 'deliveries' ? `${s} ${unit}` : s;
}

/** Any JSON value as short display text. */
export function fmtAny(v: unknown): string {
  if (typeof v === 'number') return fmtValue(v);
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  return JSON.stringify(v);
}

/** A table: head cells and rows of cells, each already-escaped HTML. `num` marks right-aligned columns. */
export function table(head: string[], rows: string[][], opts: { num?: number[]; cls?: string } = {}): string {
  const num = new Set(opts.num ?? []);
  const cell = (tag: 'th' | 'td', c: string, i: number) => `<${tag}${num.has(i) ? ' class="num"' : ''}>${c}</${tag}>`;
  return [
    `<div class="scroll"><table${opts.cls ? ` class="${opts.cls}"` : ''}>`,
    `<thead><tr>${head.map((h, i) => cell('th', h, i)).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('')}</tbody>`,
    '</table></div>',
  ].join('');
}

/** Readable column names for the camelCase fields of the report; others show as they are. */
export const FIELD_LABELS: Record<string, string> = {
  deliveryRatio: 'delivered',
  lostConnected: 'lost while connected',
  lostDisconnected: 'lost while disconnected',
  lostPublisherDown: 'lost, publisher down',
  neverSent: 'never sent',
  neverBack: 'never back',
  failedAttempts: 'failed attempts',
  backWithin99PercentMs: '99 % back (ms)',
  backWithin100PercentMs: 'all back (ms)',
  acceptPer100msPeak: 'reconnects / 100 ms, peak',
  acceptPer100msMean: 'reconnects / 100 ms, mean',
  landedOn: 'landed on',
  cpuPerDeliveryUs: 'cpu µs / delivery',
  burstSize: 'burst size',
  burstServiceMs: 'burst service ms',
  rssAfterGcBytes: 'RSS after GC (bytes)',
  memoryPerConnectionBytes: 'memory / connection (bytes)',
  nodeId: 'node',
  rssDeltaBytes: 'RSS growth',
  heapDeltaBytes: 'heap growth',
  rssPerConnectionBytes: 'RSS / connection',
  heapPerConnectionBytes: 'heap / connection',
  perConnectionBytes: 'per connection',
};

export function label(field: string): string {
  return FIELD_LABELS[field] ?? field;
}

/** Key/value rows of an object (values of any type), sorted as given. */
export function kvTable(entries: Array<[string, unknown]>): string {
  return table(
    ['', ''],
    entries.map(([k, v]) => [escapeHtml(k), escapeHtml(fmtAny(v))]),
    { cls: 'kv' },
  );
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

export function chartDiv(c: ChartSpec): string {
  return `<figure class="chart"><figcaption>${escapeHtml(c.title)}</figcaption><div class="plot" id="${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}"></div>${
    c.note ? `<p class="note">${escapeHtml(c.note)}</p>` : ''
  }</figure>`;
}

export const STATUS_LABEL: Record<TargetResult['status'], string> = { pass: 'PASS', fail: 'FAIL', unknown: 'NOT MEASURED', off: 'OFF' };

export function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Bytes as KiB / MiB, signed (a delta can be negative); `—` for null. */
export function fmtBytes(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 2 ** 20) return `${formatNum(v / 2 ** 20, 1)} MiB`;
  if (a >= 1024) return `${formatNum(v / 1024, 1)} KiB`;
  return `${formatInt(v)} B`;
}

/** A table of objects: one row each, the union of their keys as columns; `*Bytes` fields as sizes. */
export function objectsTable(rows: Array<Record<string, unknown>>): string {
  const cols = [...new Set(rows.flatMap((o) => Object.keys(o)))];
  return table(
    cols.map((c) => escapeHtml(label(c))),
    rows.map((o) => cols.map((c) => escapeHtml(/Bytes$/.test(c) ? fmtBytes(o[c]) : isObj(o[c]) ? JSON.stringify(o[c]) : fmtAny(o[c] ?? '—')))),
    { num: cols.map((c, i) => (rows.some((o) => typeof o[c] === 'number') ? i : -1)).filter((i) => i >= 0) },
  );
}
