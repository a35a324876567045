/**
 * Reads sample values out of Prometheus text format. Only what the harness needs: the first sample
 * of a metric name, summing over label sets when `sum` is set.
 */
export function promValue(text: string, name: string, sum = false): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const valueText = rest.slice(rest[0] === '{' ? rest.indexOf('}') + 1 : 0).trim().split(/\s+/)[0];
    const v = Number(valueText);
    if (!Number.isFinite(v)) continue;
    if (!sum) return v;
    total = (total ?? 0) + v;
  }
  return total;
}
