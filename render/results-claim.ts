/**
 * The PersistentVolumeClaim load generators write their outputs to, mounted at `/results` in
 * every runner or shard pod (and in the merge Job): one folder per test run on it. Every pod of a
 * run writes to it at once, from any Kubernetes node, so it must be ReadWriteMany (NFS, CephFS,
 * EFS, Azure Files, …); `--results-claim <name>` uses an existing claim instead.
 */
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1';
import type { K8sObject } from './k8s.js';
import { metadata } from './k8s.js';

export const RESULTS_DIR = '/results';

export interface ResultsClaimOptions {
  /** An existing claim to use (nothing rendered); else `<name>-results` is rendered. */
  existing?: string;
  /** Requested size (default 1Gi). */
  storage: string;
  /** Storage class (default: the cluster's default class). */
  storageClass?: string;
}

export const RESULTS_CLAIM_DEFAULTS = { storage: '1Gi' };

/** A Kubernetes resource quantity: `1Gi`, `500Mi`, `2`, `250m`. */
export const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

export function resultsClaimProblems(o: ResultsClaimOptions): string[] {
  return QUANTITY.test(o.storage) ? [] : [`--storage: '${o.storage}' is not a Kubernetes quantity like 1Gi or 500Mi`];
}

export function resultsClaim(o: ResultsClaimOptions, name: string, labels: Record<string, string>, namespace?: string): { claimName: string; object?: IPersistentVolumeClaim & K8sObject } {
  if (o.existing) return { claimName: o.existing };
  const claimName = `${name}-results`;
  return {
    claimName,
    object: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: metadata(claimName, labels, namespace),
      spec: {
        accessModes: ['ReadWriteMany'],
        resources: { requests: { storage: o.storage } },
        ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
      },
    },
  };
}
