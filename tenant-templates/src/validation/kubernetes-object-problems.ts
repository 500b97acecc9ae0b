/**
 * Validation of Kubernetes objects against kubernetes-models' schemas, made strict.
 *
 * kubernetes-models validates types, enums and required fields but, like the OpenAPI
 * schemas it is generated from, lets undeclared fields through; the API server would
 * silently drop them (or reject them under `fieldValidation=Strict`). Its schemas ship
 * compiled to code, not as JSON Schema, so the strict check watches the compiled
 * validator instead: every field a schema declares is read by the validator (`data.x`),
 * a map (`additionalProperties`) is enumerated, and a free-form value is not looked into
 * at all. After a passing validation, any key of an object that the validator did read
 * from, but never read, is a field its schema does not declare.
 */

/** A kubernetes-models class, e.g. `Deployment`; only its prototype's `validate` is used. */
export interface KubernetesModelClass {
  prototype: { validate(): void };
}

export interface StrictCheckOptions {
  /**
   * Fields declared by the Kubernetes API but absent from kubernetes-models' compiled
   * validators, which leave out every property named `description` or `x-…` (so a CRD's
   * JSONSchemaProps loses `description` and the `x-kubernetes-*` extensions). `path` is
   * the path of the object holding `key`, e.g. `.spec.versions[0].schema.openAPIV3Schema`.
   */
  isDeclared?: (key: string, path: string) => boolean;
}

interface Observations {
  /** Objects the validator looked into, with the keys it read. */
  read: WeakMap<object, Set<PropertyKey>>;
  /** Objects the validator enumerated: maps, whose every key is allowed. */
  enumerated: WeakSet<object>;
}

function observe(target: object, observations: Observations): object {
  const reads = (object: object): Set<PropertyKey> => {
    let keys = observations.read.get(object);
    if (!keys) {
      keys = new Set();
      observations.read.set(object, keys);
    }
    return keys;
  };
  return new Proxy(target, {
    get(object, key, receiver) {
      reads(object).add(key);
      const value: unknown = Reflect.get(object, key, receiver);
      return typeof value === 'object' && value !== null ? observe(value, observations) : value;
    },
    has(object, key) {
      reads(object).add(key);
      return Reflect.has(object, key);
    },
    ownKeys(object) {
      reads(object);
      observations.enumerated.add(object);
      return Reflect.ownKeys(object);
    },
  });
}

interface WalkContext {
  observations: Observations;
  options: StrictCheckOptions;
  found: string[];
}

/** The keys the schema of `object` allows: all of them for a map or a free-form value. */
function declaredKeys(
  object: object,
  path: string,
  context: WalkContext,
): (key: string) => boolean {
  const read = context.observations.read.get(object);
  if (read === undefined || context.observations.enumerated.has(object)) return () => true;
  const extension = context.options.isDeclared ?? (() => false);
  return (key) => read.has(key) || extension(key, path);
}

function undeclaredFields(value: unknown, path: string, context: WalkContext): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => undeclaredFields(item, `${path}[${index}]`, context));
    return;
  }
  const isDeclared = declaredKeys(value, path, context);
  for (const [key, child] of Object.entries(value)) {
    if (isDeclared(key)) {
      undeclaredFields(child, `${path}.${key}`, context);
    } else {
      context.found.push(`${path}.${key}: field not declared by the schema`);
    }
  }
}

/**
 * Everything wrong with `object` as a `model`: schema violations (types, enums, required
 * fields, formats) and, once those pass, fields the schema does not declare. Empty when
 * the object is valid.
 */
export function findKubernetesObjectProblems(
  object: object,
  model: KubernetesModelClass,
  options: StrictCheckOptions = {},
): string[] {
  const observations: Observations = { read: new WeakMap(), enumerated: new WeakSet() };
  try {
    model.prototype.validate.call(observe(object, observations));
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
  const found: string[] = [];
  undeclaredFields(object, '', { observations, options, found });
  return found;
}
