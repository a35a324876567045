import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { assertValidReport, reportSchema, validateReport } from './schema.js';
import { WsbenchError } from '../common/errors.js';
import type { RunReport } from './run-report.js';

const load = (name: string): RunReport => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
const FIXTURES = ['sample-report.json', 'report-default-run.json', 'report-generator-bound-run.json', 'sample-report-chaos.json', 'report-security-probes-run.json'];

describe('RunReport JSON Schema', () => {
  it('is a draft 2020-12 schema with the current schema version', () => {
    const s = reportSchema();
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect((s.properties as Record<string, { const?: number }>).schemaVersion.const).toBe(1);
  });

  it.each(FIXTURES)('accepts %s', (name) => {
    expect(validateReport(load(name))).toEqual([]);
  });

  it('accepts an error report without targets, and an unknown optional field', () => {
    const r = { ...load('report-default-run.json'), targets: [], verdict: 'error', error: { code: 'WSB_NODE_NOT_READY', message: '2 of 3 nodes ready' }, futureField: { x: 1 } };
    expect(validateReport(r)).toEqual([]);
  });

  it('names every problem by its path', () => {
    const r = load('sample-report.json') as unknown as Record<string, any>;
    r.metrics.broadcast_latency_ms.p99 = '13 ms';
    delete r.accounting.crossNode.lost;
    r.targets[2].status = 'maybe';
    r.connectionsPerNode['node "x"'] = -1;
    r.timeline[3].p99Ms = 'n/a';
    r.verdict = 'passed';
    const problems = validateReport(r);
    expect(problems).toEqual(
      expect.arrayContaining([
        'metrics.broadcast_latency_ms.p99: must be number',
        'accounting.crossNode.lost: is missing',
        'targets[2].status: must be one of "pass", "fail", "unknown", "off"',
        'connectionsPerNode["node \\"x\\""]: must be >= 0',
        'timeline[3].p99Ms: must be number,null',
        'verdict: must be one of "pass", "fail", "error", "interrupted"',
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('rejects a missing required section, a wrong schemaVersion and a malformed time', () => {
    const r = load('sample-report.json') as unknown as Record<string, unknown>;
    delete r.generator;
    r.schemaVersion = 2;
    r.startedAt = 'yesterday';
    const problems = validateReport(r);
    expect(problems).toContain('generator: is missing');
    expect(problems).toContain('schemaVersion: must be 1');
    expect(problems.some((p) => p.startsWith('startedAt: must match pattern'))).toBe(true);
  });

  it('assertValidReport throws WSB_REPORT_INVALID naming the first problems', () => {
    const r = load('sample-report.json') as unknown as Record<string, any>;
    for (const m of Object.values(r.metrics) as Array<Record<string, unknown>>) delete m.count;
    for (const t of r.targets) t.value = 'x';
    let err: unknown;
    try {
      assertValidReport(r, 'x.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WsbenchError);
    const e = err as WsbenchError;
    expect(e.code).toBe('WSB_REPORT_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^x\.json does not match the RunReport schema: metrics\.broadcast_latency_ms\.count: is missing; /);
    expect(e.message).toMatch(/; and \d+ more$/);
    expect(e.hint).toContain('model/run-report.schema.json');
  });
});

/** Every `path` in the "RunReport fields" table of docs/report-format.md, normalised to schema terms. */
function readmePaths(): string[] {
  const readme = readFileSync(new URL('../docs/report-format.md', import.meta.url), 'utf8');
  const start = readme.indexOf('## RunReport fields');
  expect(start).toBeGreaterThan(-1);
  const table = readme.slice(start).split('\n## ')[0];
  const paths: string[] = [];
  for (const line of table.split('\n')) {
    const m = /^\| `([^`]+)` \|/.exec(line);
    if (m) paths.push(m[1]);
  }
  return paths;
}

type Schema = { properties?: Record<string, Schema>; additionalProperties?: Schema | boolean; items?: Schema; allOf?: Schema[]; $ref?: string };

/** Resolves the schema node for a documented path (`metrics.<name>.p99`, `targets[].id`, `error?.code`). */
function schemaNode(root: Schema, path: string): Schema | undefined {
  const defs = (root as { $defs: Record<string, Schema> }).$defs;
  const deref = (s: Schema | undefined): Schema | undefined => {
    if (!s) return s;
    if (s.$ref) return deref(defs[s.$ref.replace('#/$defs/', '')]);
    if (s.allOf && s.allOf[0]?.$ref) {
      const base = deref(s.allOf[0])!;
      return { ...s, properties: { ...base.properties, ...s.properties } };
    }
    return s;
  };
  let cur: Schema | undefined = root;
  for (const raw of path.replace(/\?/g, '').split('.')) {
    cur = deref(cur);
    if (!cur) return undefined;
    if (raw === '*') return cur;
    const isArray = raw.endsWith('[]');
    const key = raw.replace(/\[\]$/, '');
    cur = /^<.+>$/.test(key) ? (typeof cur.additionalProperties === 'object' ? cur.additionalProperties : undefined) : cur.properties?.[key];
    if (isArray) cur = deref(cur)?.items;
  }
  return deref(cur);
}

describe('schema and docs/report-format.md stay in step', () => {
  it('every field docs/report-format.md documents is in the schema', () => {
    const schema = reportSchema() as Schema;
    const missing = readmePaths().filter((p) => schemaNode(schema, p) === undefined);
    expect(missing).toEqual([]);
  });

  it('every top-level field of the schema is documented in docs/report-format.md', () => {
    const documented = new Set(readmePaths().map((p) => p.replace(/\?/g, '').split(/[.[]/)[0]));
    const undocumented = Object.keys((reportSchema() as Schema).properties!).filter((k) => !documented.has(k));
    expect(undocumented).toEqual([]);
  });
});
