/** How the console writes numbers: integers, decimals, percentages, ms, seconds, values with units. */
/** An integer with thousands separators: 12,345. */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A number with `digits` decimals and thousands separators: 12,345.68. */
export function formatNum(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * A ratio (0..1) as a percentage with as many decimals as it takes (2 to 10) for a ratio below 1
 * never to print as 100%: 0.99999 → `99.999%`, 1 → `100%`, 0.5 → `50.00%`.
 */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  if (ratio === 1) return '100%';
  const pct = ratio * 100;
  if (ratio < 1) {
    for (let d = 2; d <= 10; d++) {
      const s = pct.toFixed(d);
      if (Number(s) < 100) return `${s}%`;
    }
    return '>99.9999999999%';
  }
  return `${pct.toFixed(2)}%`;
}

export function formatMs(n: number): string {
  return formatNum(n, 2);
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatValue(n: number, unit: string): string {
  const num = Number.isInteger(n) ? formatInt(n) : formatNum(n, 2);
  return unit ? `${num} ${unit}` : num;
}
