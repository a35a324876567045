/**
 * The harness's side of the reference nodes' `--insecure-disable` switch: which security checks a
 * node can be told to skip, the node arguments, and the line the report's `topology.overrides`
 * carries. TEST/CALIBRATION ONLY: a node started with it is deliberately insecure, so that the
 * `security-probes` scenario can prove it catches a server that lacks a check. The nodes apply it
 * themselves (reference-server/security.ts); the harness does not import that module, so the list
 * is repeated here and a unit test keeps the two in step.
 */

/** Checks `--insecure-disable` can turn off, and the probe family that must then fail. */
export const INSECURE_CHECKS = ['auth', 'origin', 'rate-limit', 'size-limit', 'room-auth', 'buffer-limit'] as const;
export type InsecureCheck = (typeof INSECURE_CHECKS)[number];

/** The probe family of `security-probes` each disabled check breaks. */
export const PROBE_FAMILY_OF: Record<InsecureCheck, string> = {
  auth: 'auth',
  origin: 'origin',
  'rate-limit': 'rate-limit',
  'size-limit': 'size-limit',
  'room-auth': 'room-auth',
  'buffer-limit': 'slow-consumer',
};

/** Splits `--insecure-disable` values (repeated and/or comma-separated) into single checks. */
export function splitInsecureChecks(values: string | readonly string[] | undefined): string[] {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  return [...new Set(list.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== ''))];
}

/** Problems with the checks, in the user's terms (empty: all known). */
export function insecureCheckProblems(checks: readonly string[]): string[] {
  const bad = checks.filter((c) => !(INSECURE_CHECKS as readonly string[]).includes(c));
  return bad.length ? [`--insecure-disable: unknown check(s) ${bad.map((b) => `'${b}'`).join(', ')} (one of ${INSECURE_CHECKS.join(', ')})`] : [];
}

/** The reference node's arguments (none unless checks are disabled). */
export function insecureDisableArgs(t: { insecureDisable?: readonly string[] }): string[] {
  return t.insecureDisable?.length ? ['--insecure-disable', t.insecureDisable.join(',')] : [];
}

/** The report's `topology.overrides` entry for the switch (none without it). */
export function insecureOverride(checks: readonly string[] | undefined): Array<{ setting: string; value: string; seedDefault: string; why: string }> {
  if (!checks?.length) return [];
  return [
    {
      setting: 'insecureDisable',
      value: checks.join(','),
      seedDefault: 'none',
      why: 'TEST/CALIBRATION ONLY (--insecure-disable): the nodes skip these security checks on purpose, to prove security-probes catches it',
    },
  ];
}
