import { readFileSync } from 'node:fs';
import { type ICustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { parse } from 'yaml';

/**
 * Reads the Tenant CustomResourceDefinition the operator team commits as YAML (generated from the
 * TypeScript types in `operators/`), so the cluster gets exactly the schema the operator validates
 * against. Refuses a file that is not one `apiextensions.k8s.io/v1` CRD.
 */
export function readTenantCrd(path: string): ICustomResourceDefinition {
  const document: unknown = parse(readFileSync(path, 'utf8'));
  if (!isCustomResourceDefinition(document)) {
    throw new Error(`${path} is not an apiextensions.k8s.io/v1 CustomResourceDefinition`);
  }
  return document;
}

function isCustomResourceDefinition(value: unknown): value is ICustomResourceDefinition {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const object = value as Record<string, unknown>;
  return (
    object.apiVersion === 'apiextensions.k8s.io/v1' &&
    object.kind === 'CustomResourceDefinition' &&
    typeof object.spec === 'object'
  );
}
