/**
 * What every rendered Kubernetes object shares: names, labels, metadata, and the YAML they are
 * written as (one stream on stdout, or one file per object). Pure functions.
 *
 * The built-in kinds are typed with kubernetes-models' interfaces (type-only imports: nothing of
 * it is loaded at run time), so a misspelt or misplaced field fails the build; the tests also
 * validate every object against the package's Kubernetes schemas, and TestRuns against the
 * k6-operator CRD (test/support/k8s-validate.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { IObjectMeta as ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1';
import { WsbenchError } from '../common/errors.js';

export type { ObjectMeta };

/** Any rendered object: apiVersion, kind, metadata with a name, and its body. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string };
  [field: string]: unknown;
}

/** What `wsbench render <kind>` produces: the objects, in apply order, and notes for the reader. */
export interface Rendered {
  kind: string;
  objects: K8sObject[];
  /** Written as `#` comments at the head of the YAML (and into README.txt with --out). */
  notes: string[];
}

/** `app.kubernetes.io/*` labels (the recommended ones) plus the part of wsbench an object is. */
export function labelsFor(instance: string, component: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'wsbench',
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'wsbench-render',
    ...extra,
  };
}

export function metadata(name: string, labels: Record<string, string>, namespace?: string): ObjectMeta & { name: string } {
  return { name, ...(namespace ? { namespace } : {}), labels };
}

/** RFC 1123 label (what Service, Job and pod names must be). */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Checks a name every object's name is built from. `maxLength` leaves room for the suffixes added
 * to it (`-node-12`, `-initializer`, a Job's pod suffix): Kubernetes caps labels at 63.
 */
export function checkName(flag: string, value: string, maxLength: number): string[] {
  if (!DNS_LABEL.test(value)) return [`${flag}: '${value}' must be lower-case letters, digits and '-', starting with a letter and not ending with '-' (a Kubernetes name)`];
  if (value.length > maxLength) return [`${flag}: '${value}' is ${value.length} characters; at most ${maxLength} (Kubernetes adds suffixes to it)`];
  return [];
}

/** Docker image reference `[registry/]name[:tag][@digest]`. */
const IMAGE_REF = /^[a-z0-9][a-z0-9._/:@-]*$/i;

export function checkImage(flag: string, value: string): string[] {
  return IMAGE_REF.test(value) ? [] : [`${flag}: '${value}' is not an image reference like registry.example/wsbench:0.1.0`];
}

/** Throws one WSB_INVALID_OPTION listing every problem, as `wsbench run` does. */
export function refuse(kind: string, problems: string[]): void {
  if (!problems.length) return;
  throw new WsbenchError('WSB_INVALID_OPTION', `invalid options for render ${kind}:\n  - ${problems.join('\n  - ')}`, { hint: `see \`wsbench render --help\`` });
}

/**
 * YAML 1.1, as Kubernetes reads it (sigs.k8s.io/yaml → go-yaml): `no`, `on`, `yes` are booleans
 * there, so the writer quotes every such string (e.g. redis's `--appendonly no`). No aliases.
 */
export const YAML_OPTIONS = { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false } as const;

/** One YAML stream: the notes as comments, then each object as a document. */
export function toYaml(r: Rendered): string {
  const head = [`# rendered by wsbench: render ${r.kind}`, ...r.notes.flatMap((n) => n.split('\n')).map((l) => `# ${l}`.trimEnd())].join('\n');
  const docs = r.objects.map((o) => stringify(o, YAML_OPTIONS).trimEnd());
  return `${head}\n---\n${docs.join('\n---\n')}\n`;
}

/** `01-configmap-wsbench-nginx.yaml`: apply order, kind, name. */
export function fileNameFor(o: K8sObject, index: number): string {
  return `${String(index + 1).padStart(2, '0')}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;
}

/** One file per object into `dir` (`kubectl apply -f <dir>` applies them in name order); returns the paths. */
export function writeObjects(r: Rendered, dir: string): string[] {
  try {
    mkdirSync(dir, { recursive: true });
    const paths = r.objects.map((o, i) => {
      const p = join(dir, fileNameFor(o, i));
      writeFileSync(p, stringify(o, YAML_OPTIONS));
      return p;
    });
    writeFileSync(join(dir, 'README.txt'), `rendered by wsbench: render ${r.kind}\n\n${r.notes.join('\n')}\n`);
    return paths;
  } catch (e) {
    throw new WsbenchError('WSB_REPORT_WRITE_FAILED', `cannot write the manifests into ${dir}: ${(e as Error).message}`, { hint: 'check --out (a folder wsbench can create and write)', cause: e });
  }
}
