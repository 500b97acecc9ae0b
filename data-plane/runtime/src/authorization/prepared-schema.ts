import { hash } from 'node:crypto';
import { preparseSchema, schemaToJson, type Schema } from '@cedar-policy/cedar-wasm/nodejs';
import { canonicalJson, type JsonValue } from '@citadel/contracts';
import { entityKey, type CedarEntityUid } from './authorization-request.ts';
import { readSchemaActions, type SchemaActions } from './schema-actions.ts';
import { readSchemaAttributes, type SchemaAttributes } from './schema-attributes.ts';

/**
 * A schema as authorizers use it, prepared once per process (authorizers of every tenant
 * share it): pre-parsed inside cedar-wasm whole and, on first use, cut down to each action
 * (see `SchemaActions.schemaFor`), with what slicing and pruning read of it. `actions` and
 * `attributes` are undefined when Cedar cannot give the schema's JSON form: the authorizer
 * then neither slices nor prunes.
 */
export interface PreparedSchema {
  /** The pre-parsed id of the whole schema. */
  name: string;
  actions: SchemaActions | undefined;
  attributes: SchemaAttributes | undefined;
  /** The pre-parsed id of the schema cut down to `action` (of the whole one if it has none). */
  nameFor(action: CedarEntityUid): string;
}

const prepared = new Map<string, PreparedSchema>();
const preparsed = new Set<string>();

function schemaText(schema: Schema): string {
  return typeof schema === 'string' ? schema : canonicalJson(schema as unknown as JsonValue);
}

/** Pre-parses a schema once per process, named by its digest. */
function preparseOnce(schema: Schema): string {
  const name = `schema-${hash('sha256', schemaText(schema), 'hex')}`;
  if (preparsed.has(name)) return name;
  const answer = preparseSchema(name, schema);
  if (answer.type === 'failure') {
    throw new TypeError(`invalid Cedar schema: ${answer.errors.map((e) => e.message).join('; ')}`);
  }
  preparsed.add(name);
  return name;
}

/** @throws TypeError when the schema is invalid. */
export function prepareSchema(schema: Schema): PreparedSchema {
  const name = preparseOnce(schema);
  const known = prepared.get(name);
  if (known !== undefined) return known;
  const answer = schemaToJson(schema);
  const actions = answer.type === 'success' ? readSchemaActions(answer.json) : undefined;
  const byAction = new Map<string, string>();
  const schemaOf: PreparedSchema = {
    name,
    actions,
    attributes: answer.type === 'success' ? readSchemaAttributes(answer.json) : undefined,
    nameFor(action) {
      const key = entityKey(action);
      let actionName = byAction.get(key);
      if (actionName === undefined) {
        const cut = actions?.schemaFor(action);
        actionName = cut === undefined ? name : preparseOnce(cut);
        byAction.set(key, actionName);
      }
      return actionName;
    },
  };
  prepared.set(name, schemaOf);
  return schemaOf;
}
