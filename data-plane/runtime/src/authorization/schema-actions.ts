import { schemaToJson, type Schema } from '@cedar-policy/cedar-wasm/nodejs';
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
}

interface ActionJson {
  appliesTo?: { principalTypes?: unknown; resourceTypes?: unknown };
  memberOf?: unknown;
}

interface DeclaredAction {
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

function declaredActions(json: Record<string, { actions?: Record<string, ActionJson> }>) {
  const actions = new Map<string, DeclaredAction>();
  for (const [namespace, definition] of Object.entries(json)) {
    for (const [id, action] of Object.entries(definition.actions ?? {})) {
      actions.set(entityKey({ type: actionType(namespace), id }), {
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

/**
 * Reads the actions of `schema`; undefined when Cedar cannot give the schema's JSON form, in
 * which case the authorizer does not slice.
 */
export function readSchemaActions(schema: Schema): SchemaActions | undefined {
  const answer = schemaToJson(schema);
  if (answer.type !== 'success') return undefined;
  const actions = declaredActions(answer.json);
  const groups = new Map([...actions.keys()].map((key) => [key, transitiveGroups(actions, key)]));
  return {
    groupsOf: (action) => groups.get(entityKey(action)),
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
