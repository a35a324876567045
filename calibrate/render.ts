import Table from 'cli-table3';
import type { CalibrationResult } from './checks.js';

/** The table `wsbench calibrate` prints. */
export function renderCalibration(r: CalibrationResult): string {
  const t = new Table({ head: ['case', 'injected', 'check', 'expected', 'measured', 'agrees'], style: { head: [], border: [], compact: true }, wordWrap: true, colWidths: [10, 30, 40, 24, 40, 8] });
  for (const c of r.cases) {
    c.checks.forEach((k, i) => t.push([i === 0 ? c.case : '', i === 0 ? c.injected : '', k.check, k.expected, k.measured, k.agrees ? 'yes' : 'NO']));
  }
  const all = r.cases.flatMap((c) => c.checks);
  const bad = all.filter((k) => !k.agrees).length;
  const info = r.cases.flatMap((c) => (c.info ?? []).map((i) => `  ${c.case}: ${i.what}: ${i.measured}`));
  const infoText = info.length ? `\ninformational (not checks, not counted):\n${info.join('\n')}` : '';
  const verdict = bad === 0 ? `calibrate: all ${all.length} checks agree` : `calibrate: ${bad} of ${all.length} checks DISAGREE`;
  return `${t.toString()}${infoText}\n${verdict} (runs and calibration.json in ${r.outDir})`;
}
