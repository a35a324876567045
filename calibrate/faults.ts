/**
 * The harness's side of the reference nodes' `--calibration-fault` switch: the spec grammar (to
 * check `wsbench run --calibration-fault …` before anything starts), the node arguments, and the
 * line the report's `topology.overrides` carries. The nodes parse and apply the specs themselves
 * (reference-server/calibration-faults.ts: what each fault does, exactly where it applies). The
 * harness does not import that module, so the grammar is repeated here. A unit test keeps the two
 * in step.
 *
 * CALIBRATION ONLY: a run with faults measures a deliberately broken cluster.
 */

const SPEC = /^(delay-cross|drop-every|dup-every|leak-room)=(\d+)(?::([^,]+))?$|^swap-pairs(?::([^,]+))?$/;

/** Splits `--calibration-fault` values (repeated and/or comma-separated) into single specs. */
export function splitCalibrationFaults(values: string | readonly string[] | undefined): string[] {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  return list.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/** Problems with the specs, in the user's terms (empty: all valid). */
export function calibrationFaultProblems(specs: readonly string[]): string[] {
  const problems: string[] = [];
  for (const spec of specs) {
    const m = SPEC.exec(spec);
    if (m === null) {
      problems.push(`--calibration-fault: '${spec}' is not a calibration fault (delay-cross=<ms>[:<room>], drop-every=<k>[:<room>], dup-every=<m>[:<room>], swap-pairs[:<room>], leak-room=<k>[:<room>])`);
    } else if (m[1] === 'delay-cross' && (Number(m[2]) < 1 || Number(m[2]) > 60_000)) {
      problems.push(`--calibration-fault: '${spec}': the delay must be between 1 and 60000 ms`);
    } else if (m[1] !== undefined && m[1] !== 'delay-cross' && Number(m[2]) < 1) {
      problems.push(`--calibration-fault: '${spec}': every must be at least 1`);
    }
  }
  return problems;
}

/** The reference node's arguments for the topology's faults (none without faults). */
export function calibrationFaultArgs(t: { calibrationFaults?: readonly string[] }): string[] {
  return t.calibrationFaults?.length ? ['--calibration-fault', t.calibrationFaults.join(',')] : [];
}

/** The report's `topology.overrides` entry for a run with faults. */
export function calibrationFaultOverride(specs: readonly string[]): { setting: string; value: string; seedDefault: string; why: string } {
  return {
    setting: 'calibrationFault',
    value: specs.join(','),
    seedDefault: 'none',
    why: 'CALIBRATION ONLY: every reference node injects these faults on purpose (--calibration-fault, `wsbench calibrate`); this run measures a deliberately broken cluster',
  };
}

/** The loud note a run with faults carries in its report and prints at the start. */
export function calibrationFaultNote(specs: readonly string[]): string {
  return `CALIBRATION FAULTS INJECTED into every reference node: ${specs.join(', ')}. The cluster misbehaves on purpose; do not read these results as the cluster's.`;
}
