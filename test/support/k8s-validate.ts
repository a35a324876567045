/**
 * Offline validation of rendered Kubernetes objects, as the API server would judge them:
 * - the built-in kinds (ConfigMap, Secret, Service, PersistentVolumeClaim, Deployment, Job) with
 *   kubernetes-models' validators, generated from Kubernetes' own OpenAPI schemas;
 * - a TestRun against the `openAPIV3Schema` of the k6-operator CRD in fixtures/k8s/k6-operator/,
 *   with ajv, its metadata as an ObjectMeta.
 * The TestRun check is stricter than the bare schema in one respect the API server also is: a
 * field the schema does not know is an error (kubectl's default `--validate=strict`), where the
 * bare JSON Schema would let a misspelt field through (and the API server's pruning would drop it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1';
import { packageRoot } from '../../common/paths.js';

export const CRD_PATH = join(packageRoot(), 'fixtures', 'k8s', 'k6-operator', 'k6.io_testruns.yaml');

type Schema = Record<string, unknown>;

/** Every object schema that lists its properties and says nothing of others gets `additionalProperties: false`. */
function closeObjects(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(closeObjects);
  if (!s || typeof s !== 'object') return s;
  const o: Schema = {};
  for (const [k, v] of Object.entries(s as Schema)) {
    // `properties` and `required` hold names, not schemas, at their first level.
    if (k === 'properties') o[k] = Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, closeObjects(ps)]));
    else o[k] = closeObjects(v);
  }
  if (o.properties && o.additionalProperties === undefined && !o['x-kubernetes-preserve-unknown-fields']) o.additionalProperties = false;
  return o;
}

/** The CRD's schema of `version` (v1alpha1), as loaded from the fixture. */
export function crdSchema(path = CRD_PATH, version = 'v1alpha1'): Schema {
  const [doc] = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as { kind: string; spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> } });
  if (doc.kind !== 'CustomResourceDefinition') throw new Error(`${path}: not a CRD`);
  const v = doc.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${path}: no version ${version}`);
  return v.schema.openAPIV3Schema;
}

let testRunValidator: ReturnType<Ajv['compile']> | undefined;

function testRunValidate() {
  if (testRunValidator) return testRunValidator;
  const ajv = new Ajv({ allErrors: true, strict: false });
  // Kubernetes' own formats: int32/int64 (range-checked where the schema says so), date-time.
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
  for (const k of ['x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations']) ajv.addKeyword(k);
  testRunValidator = ajv.compile(closeObjects(crdSchema()) as Schema);
  return testRunValidator;
}

const fmt = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.keyword === 'additionalProperties' ? `: ${(e.params as { additionalProperty: string }).additionalProperty}` : ''}`);

const BUILT_IN: Record<string, { new (data: any): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
};

/**
 * A built-in kind against Kubernetes' schema (kubernetes-models). Those validators accept a field
 * they do not know; the renderers' objects are typed with the same package's interfaces, so an
 * unknown field there fails the build instead (render/*.ts).
 */
function validateBuiltIn(o: { apiVersion: string; kind: string }): string[] {
  const M = BUILT_IN[`${o.apiVersion}/${o.kind}`];
  if (!M) return [`${o.apiVersion} ${o.kind}: no schema here for this kind`];
  try {
    new M(o).validate();
    return [];
  } catch (e) {
    return String((e as Error).message).split(/,\s*(?=data)/);
  }
}

/** Problems of one object (empty: valid). */
export function validateObject(o: Record<string, any>): string[] {
  if (o.apiVersion === 'k6.io/v1alpha1' && o.kind === 'TestRun') {
    const v = testRunValidate();
    const problems = v(o) ? [] : fmt(v.errors);
    try {
      new ObjectMeta(o.metadata).validate();
    } catch (e) {
      problems.push(`/metadata ${(e as Error).message}`);
    }
    return problems;
  }
  return validateBuiltIn(o as { apiVersion: string; kind: string });
}

/** Parses a YAML stream as Kubernetes does (YAML 1.1) into its documents. */
export function parseManifests(text: string): Array<Record<string, any>> {
  return parseAllDocuments(text, { version: '1.1' })
    .map((d) => {
      if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS() as Record<string, any> | null;
    })
    .filter((d): d is Record<string, any> => d !== null);
}
