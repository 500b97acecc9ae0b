import type { Schema, SchemaJson } from '@cedar-policy/cedar-wasm/nodejs';
import { entityKey, type CedarEntityUid } from './authorization-request.ts';

/**
 * What policy slicing needs to know of a schema's actions: the action groups each action is
 * in, and which principal and resource types it applies to. Read once per authorizer from
 * Cedar's own JSON form of the schema.
 */
export interface SchemaActions {
  /**
   * The keys (see `entityKey`) of every action group `action` is in, transitively; undefined
   * for an action the schema does not declare.
   */
  groupsOf(action: CedarEntityUid): ReadonlySet<string> | undefined;
  /** Whether the schema lets `action` apply to these principal and resource types. */
  appliesTo(action: CedarEntityUid, principalType: string, resourceType: string): boolean;
  /**
   * The schema cut down to one action and its groups (every entity and common type kept);
   * undefined for an action the schema does not declare. cedar-wasm builds every action of
   * the schema it is given as an entity on every call (~0.5 µs per action), and validates a
   * request only against its own action: for a request of that action, this schema answers
   * exactly as the whole one does.
   */
  schemaFor(action: CedarEntityUid): Schema | undefined;
}

interface ActionJson {
  appliesTo?: { principalTypes?: unknown; resourceTypes?: unknown };
  memberOf?: unknown;
}

interface NamespaceJson {
  actions?: Record<string, ActionJson>;
}

interface DeclaredAction {
  namespace: string;
  id: string;
  parents: string[];
  principalTypes: Set<string>;
  resourceTypes: Set<string>;
}

/**
 * The names an unqualified name in `namespace` may stand for. Cedar looks in the namespace
 * first and then in the empty one; both are kept, so a lookup errs on "may match", never on
 * "cannot match".
 */
function candidates(name: string, namespace: string): string[] {
  if (name.includes('::') || namespace === '') return [name];
  return [`${namespace}::${name}`, name];
}

function actionType(namespace: string): string {
  return namespace === '' ? 'Action' : `${namespace}::Action`;
}

function stringsOf(value: unknown, namespace: string): Set<string> {
  const names = Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
  return new Set(names.flatMap((name) => candidates(name, namespace)));
}

function parentsOf(memberOf: unknown, namespace: string): string[] {
  if (!Array.isArray(memberOf)) return [];
  return memberOf.flatMap((parent: { id?: unknown; type?: unknown }) => {
    if (typeof parent.id !== 'string') return [];
    const id = parent.id;
    const types =
      typeof parent.type === 'string'
        ? candidates(parent.type, namespace)
        : [actionType(namespace)];
    return types.map((type) => entityKey({ type, id }));
  });
}

function declaredActions(json: Record<string, NamespaceJson>) {
  const actions = new Map<string, DeclaredAction>();
  for (const [namespace, definition] of Object.entries(json)) {
    for (const [id, action] of Object.entries(definition.actions ?? {})) {
      actions.set(entityKey({ type: actionType(namespace), id }), {
        namespace,
        id,
        parents: parentsOf(action.memberOf, namespace),
        principalTypes: stringsOf(action.appliesTo?.principalTypes, namespace),
        resourceTypes: stringsOf(action.appliesTo?.resourceTypes, namespace),
      });
    }
  }
  return actions;
}

function transitiveGroups(actions: ReadonlyMap<string, DeclaredAction>, start: string) {
  const groups = new Set<string>();
  const pending = [...(actions.get(start)?.parents ?? [])];
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    if (groups.has(key)) continue;
    groups.add(key);
    pending.push(...(actions.get(key)?.parents ?? []));
  }
  return groups;
}

/** `json` with only the actions `keep` names. */
function withActions(
  json: Record<string, NamespaceJson>,
  keep: Iterable<DeclaredAction>,
): Record<string, NamespaceJson> {
  const cut: Record<string, NamespaceJson> = {};
  for (const [namespace, definition] of Object.entries(json)) {
    cut[namespace] = { ...definition, actions: {} };
  }
  for (const { namespace, id } of keep) {
    const action = json[namespace]?.actions?.[id];
    const actions = cut[namespace]?.actions;
    if (action !== undefined && actions !== undefined) actions[id] = action;
  }
  return cut;
}

/** Reads the actions of a schema from Cedar's JSON form of it (`schemaToJson`). */
export function readSchemaActions(schema: SchemaJson<string>): SchemaActions {
  const json = schema as Record<string, NamespaceJson>;
  const actions = declaredActions(json);
  const groups = new Map([...actions.keys()].map((key) => [key, transitiveGroups(actions, key)]));
  return {
    groupsOf: (action) => groups.get(entityKey(action)),
    schemaFor(action) {
      const key = entityKey(action);
      const declared = actions.get(key);
      if (declared === undefined) return undefined;
      const keep = [key, ...(groups.get(key) ?? [])].flatMap((name) => actions.get(name) ?? []);
      return withActions(json, keep) as Schema;
    },
    appliesTo(action, principalType, resourceType) {
      const declared = actions.get(entityKey(action));
      return (
        declared !== undefined &&
        declared.principalTypes.has(principalType) &&
        declared.resourceTypes.has(resourceType)
      );
    },
  };
}
