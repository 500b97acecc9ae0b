import { createHash, randomUUID } from 'node:crypto';
import {
  checkParseEntities,
  checkParsePolicySet,
  policySetTextToParts,
  policyToJson,
  preparsePolicySet,
  statefulIsAuthorized,
  validate,
  type AuthorizationAnswer,
  type DetailedError,
  type PolicyJson,
  type Schema,
} from '@cedar-policy/cedar-wasm/nodejs';
import { canonicalJson } from '@citadel/contracts';
import {
  entityKey,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type CedarEntity,
} from './authorization-request.ts';
import { prunedContext, prunedEntities } from './cedar-input-pruning.ts';
import { digestAuthorizationRequest } from './digest-authorization-request.ts';
import { readConditions, type ConditionReads } from './policy-conditions.ts';
import {
  readPolicyScope,
  scopeMatches,
  type PolicyScope,
  type ScopeFacts,
} from './policy-scope.ts';
import { createPolicySlices } from './policy-slices.ts';
import { prepareSchema } from './prepared-schema.ts';
import {
  entitiesForDecision,
  indexEntities,
  requestEntityStore,
  type RequestEntityStore,
} from './request-entities.ts';
import type { SchemaActions } from './schema-actions.ts';

export type {
  AuthorizationDecision,
  AuthorizationRequest,
  CedarEntity,
  CedarEntityUid,
  CedarValueJson,
} from './authorization-request.ts';
export { digestAuthorizationRequest } from './digest-authorization-request.ts';

/** Why a policy was refused. */
export type PolicyValidationErrorCode = 'parse-error' | 'validation-error' | 'template-not-allowed';

/** One reason a policy is not acceptable, attributed to the policy's id. */
export interface PolicyValidationError {
  policyId: string;
  code: PolicyValidationErrorCode;
  message: string;
  help?: string;
  /** Character offsets into the policy's text, when Cedar gives them. */
  location?: { start: number; end: number };
}

/** Thrown when policies given to an authorizer do not parse or validate. */
export class CedarPolicyError extends Error {
  readonly errors: PolicyValidationError[];
  constructor(errors: PolicyValidationError[]) {
    super(`invalid Cedar policies: ${errors.map((e) => `${e.policyId}: ${e.message}`).join('; ')}`);
    this.name = 'CedarPolicyError';
    this.errors = errors;
  }
}

export interface CedarAuthorizerOptions {
  /** Cedar schema, as schema text or schema JSON. */
  schema: Schema;
  /** Static policies by id; the ids are what decisions name. */
  policies: Readonly<Record<string, string>>;
  /**
   * Entities present in every request (role hierarchy, groups, the tenant…), checked against
   * the schema once here. A decision is given only those its request can reach (see
   * request-entities.ts), so this may hold a whole tenant.
   */
  entities?: CedarEntity[];
  /**
   * The id under which the policy set is kept pre-parsed inside cedar-wasm. Cedar keeps
   * pre-parsed sets for the life of the process and has no call to drop one: long-lived
   * owners (one per tenant) should pass a stable id so replacing reuses the slot.
   * Default: a new UUID.
   */
  policySetId?: string;
  /**
   * How many subsets of the policy set (those whose scopes match a kind of request) may be
   * kept pre-parsed for decisions to evaluate instead of the whole set; past it, decisions
   * use the whole set. 0 turns subsets off. Default 64 (a subset of ~5 policies holds
   * ~20 KB of cedar-wasm memory).
   */
  maxPolicySlices?: number;
}

/** A schema and a policy set parsed once, answering many requests. */
export interface CedarAuthorizer {
  readonly policySetId: string;
  readonly policySetDigest: string;
  readonly policyIds: readonly string[];
  /** Decides one request. Never throws for a bad request: it is denied, with the reason in `errors`. */
  authorize(request: AuthorizationRequest): AuthorizationDecision;
  /** Validates, then swaps in a new policy set; throws CedarPolicyError and keeps the old one. */
  replacePolicies(policies: Readonly<Record<string, string>>): void;
  /** Checks policies against this authorizer's schema without using them. */
  validatePolicies(policies: Readonly<Record<string, string>>): PolicyValidationError[];
  /** Empties the pre-parsed set inside cedar-wasm; every later request is denied. */
  release(): void;
  /** How many policy subsets are pre-parsed now (see `maxPolicySlices`). */
  readonly policySlices: number;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function toValidationError(
  policyId: string,
  code: PolicyValidationErrorCode,
  error: DetailedError,
): PolicyValidationError {
  const location = error.sourceLocations?.[0];
  return {
    policyId,
    code,
    message: error.message,
    ...(error.help === null ? {} : { help: error.help }),
    ...(location === undefined ? {} : { location: { start: location.start, end: location.end } }),
  };
}

function parseErrors(policies: Readonly<Record<string, string>>): PolicyValidationError[] {
  const errors: PolicyValidationError[] = [];
  for (const [policyId, text] of Object.entries(policies)) {
    // One at a time: Cedar stops at the first policy that does not parse.
    const answer = checkParsePolicySet({ staticPolicies: { [policyId]: text } });
    if (answer.type === 'failure') {
      errors.push(
        ...answer.errors.map((error) => toValidationError(policyId, 'parse-error', error)),
      );
    }
  }
  return errors;
}

/**
 * Parses `policies` and validates them, strictly, against `schema`. An empty list means
 * every policy may be used.
 */
export function validateCedarPolicies(
  schema: Schema,
  policies: Readonly<Record<string, string>>,
): PolicyValidationError[] {
  const unparsable = parseErrors(policies);
  if (unparsable.length > 0) return unparsable;
  const answer = validate({
    schema,
    policies: { staticPolicies: { ...policies } },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') {
    return answer.errors.map((error) => toValidationError('(schema)', 'validation-error', error));
  }
  return answer.validationErrors.map((error) =>
    toValidationError(error.policyId, 'validation-error', error.error),
  );
}

/**
 * Cedar names the policies of a text `policy0`, `policy1`… and returns them sorted by those
 * names as strings (policy10 before policy2); this undoes that sort to recover source order.
 */
function inSourceOrder(parts: string[]): string[] {
  const names = parts.map((_, index) => `policy${index}`).sort();
  const ordered: string[] = new Array<string>(parts.length);
  names.forEach((name, sortedIndex) => {
    ordered[Number(name.slice('policy'.length))] = parts[sortedIndex] ?? '';
  });
  return ordered;
}

/**
 * Splits a text that may hold several policies into single policies by id: `baseId` for
 * one policy, `baseId#1`, `baseId#2`… (in source order) for several. Templates are refused.
 */
export function splitCedarPolicies(
  baseId: string,
  text: string,
): { policies: Record<string, string>; errors: PolicyValidationError[] } {
  const answer = policySetTextToParts(text);
  if (answer.type === 'failure') {
    return {
      policies: {},
      errors: answer.errors.map((error) => toValidationError(baseId, 'parse-error', error)),
    };
  }
  if (answer.policy_templates.length > 0) {
    const message = 'templates (policies with ?principal or ?resource slots) are not accepted';
    return { policies: {}, errors: [{ policyId: baseId, code: 'template-not-allowed', message }] };
  }
  if (answer.policies.length === 0) {
    const message = 'the text holds no policy';
    return { policies: {}, errors: [{ policyId: baseId, code: 'parse-error', message }] };
  }
  const parts = inSourceOrder(answer.policies);
  if (parts.length === 1) return { policies: { [baseId]: parts[0] ?? '' }, errors: [] };
  const policies: Record<string, string> = {};
  parts.forEach((part, index) => (policies[`${baseId}#${index + 1}`] = part));
  return { policies, errors: [] };
}

/** A policy set as the authorizer holds it, with what slicing and fail-closed checks read. */
interface LoadedPolicySet {
  digest: string;
  ids: readonly string[];
  texts: readonly string[];
  /** Cedar's JSON form of each policy, parallel to `ids`. */
  json: readonly PolicyJson[];
  forbidIds: ReadonlySet<string>;
  /** Parallel to `ids`. */
  scopes: readonly PolicyScope[];
  /** What the conditions read beyond the scopes: entity literals, attributes. */
  reads: ConditionReads;
}

function policyJsonOf(policyId: string, text: string): PolicyJson {
  const answer = policyToJson(text);
  if (answer.type === 'failure') {
    throw new CedarPolicyError(
      answer.errors.map((error) => toValidationError(policyId, 'parse-error', error)),
    );
  }
  return answer.json;
}

function readPolicySet(policies: Readonly<Record<string, string>>): LoadedPolicySet {
  const ids = Object.keys(policies);
  const texts = Object.values(policies);
  const json = ids.map((policyId, index) => policyJsonOf(policyId, texts[index] ?? ''));
  return {
    digest: sha256(canonicalJson({ ...policies })),
    ids,
    texts,
    json,
    forbidIds: new Set(ids.filter((_, index) => json[index]?.effect === 'forbid')),
    scopes: json.map(readPolicyScope),
    reads: readConditions(json),
  };
}

const EMPTY_SET: ReadonlySet<string> = new Set();

/** The policies at `indexes`, and what their conditions read. */
function subsetOf(loaded: LoadedPolicySet, indexes: readonly number[]) {
  const policies: Record<string, string> = {};
  for (const index of indexes) policies[loaded.ids[index] ?? ''] = loaded.texts[index] ?? '';
  const json = indexes.flatMap((index) => loaded.json[index] ?? []);
  return { policies, about: readConditions(json) };
}

/** Cedar takes action entities from the schema; one passed as data makes slicing unsafe. */
function holdsActionEntity(entities: readonly CedarEntity[]): boolean {
  return entities.some(({ uid }) => uid.type === 'Action' || uid.type.endsWith('::Action'));
}

/**
 * The indexes of the policies whose scopes may match `request`; undefined when the request
 * is not one the schema allows (Cedar refuses it whatever the policies).
 */
function matchingPolicies(
  loaded: LoadedPolicySet,
  actions: SchemaActions,
  request: AuthorizationRequest,
  store: RequestEntityStore,
): number[] | undefined {
  const { principal, action, resource } = request;
  if (!actions.appliesTo(action, principal.type, resource.type)) return undefined;
  const facts: ScopeFacts = {
    principal: {
      type: principal.type,
      key: entityKey(principal),
      ancestors: store.principalAncestors,
    },
    action: { key: entityKey(action), groups: actions.groupsOf(action) ?? EMPTY_SET },
    resource: {
      type: resource.type,
      key: entityKey(resource),
      ancestors: store.resourceAncestors,
    },
  };
  const matching: number[] = [];
  loaded.scopes.forEach((scope, index) => {
    if (scopeMatches(scope, facts)) matching.push(index);
  });
  return matching;
}

/**
 * The pre-parsed schema and policy set one `statefulIsAuthorized` call names, and what those
 * policies' conditions read (which decides what of the request Cedar is given).
 */
interface CedarTarget {
  schemaName: string;
  policySetId: string;
  reads: ConditionReads;
}

type DecisionCore = Pick<AuthorizationDecision, 'decision' | 'determiningPolicies' | 'errors'>;

function refused(message: string): DecisionCore {
  return { decision: 'deny', determiningPolicies: [], errors: [message] };
}

/** Answers the request from cedar's response, failing closed. */
function toDecision(answer: AuthorizationAnswer, loaded: LoadedPolicySet): DecisionCore {
  if (answer.type === 'failure') {
    return {
      decision: 'deny',
      determiningPolicies: [],
      errors: answer.errors.map((e) => e.message),
    };
  }
  const { decision, diagnostics } = answer.response;
  const errors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).sort();
  // Cedar skips a policy whose evaluation fails. A skipped forbid would grant what it guards
  // (an isolation rule with a missing principal entity, say), so an erroring forbid denies.
  const erroredForbids = diagnostics.errors
    .map((error) => error.policyId)
    .filter((policyId) => loaded.forbidIds.has(policyId));
  if (decision === 'allow' && erroredForbids.length > 0) {
    return { decision: 'deny', determiningPolicies: erroredForbids.sort(), errors };
  }
  return { decision, determiningPolicies: [...diagnostics.reason].sort(), errors };
}

/** Checks the authorizer's own entities once against the schema: later calls skip the unused. */
function checkedEntities(schema: Schema, entities: CedarEntity[]): Map<string, CedarEntity> {
  const index = indexEntities(entities);
  const answer = checkParseEntities({ entities, schema });
  if (answer.type === 'failure') {
    throw new TypeError(
      `invalid Cedar entities: ${answer.errors.map((e) => e.message).join('; ')}`,
    );
  }
  return index;
}

/**
 * Builds an authorizer: the schema and the policy set are parsed once (and the policies
 * validated against the schema); each decision then costs one `statefulIsAuthorized` call,
 * given only what can change its answer — the policies whose scopes match the request
 * (policy-scope.ts, policy-slices.ts), the schema cut to its action (prepared-schema.ts),
 * the entities it can reach (request-entities.ts) with the attributes those policies read
 * (cedar-input-pruning.ts). Answers are Cedar's, exactly as with every policy and entity.
 *
 * @throws CedarPolicyError when a policy does not parse or validate.
 * @throws TypeError when the schema or the authorizer's entities are invalid.
 */
export function createCedarAuthorizer(options: CedarAuthorizerOptions): CedarAuthorizer {
  const { schema } = options;
  const prepared = prepareSchema(schema);
  const { actions: schemaActions, attributes: schemaAttributes } = prepared;
  const policySetId = options.policySetId ?? `citadel-${randomUUID()}`;
  const slices = createPolicySlices<ConditionReads>(policySetId, options.maxPolicySlices ?? 64);
  const baseIndex = checkedEntities(schema, options.entities ?? []);
  const baseHoldsActions = holdsActionEntity(options.entities ?? []);
  let loaded = readPolicySet({});

  function load(policies: Readonly<Record<string, string>>): void {
    const errors = validateCedarPolicies(schema, policies);
    if (errors.length > 0) throw new CedarPolicyError(errors);
    const next = readPolicySet(policies);
    const answer = preparsePolicySet(policySetId, { staticPolicies: { ...policies } });
    if (answer.type === 'failure') {
      throw new CedarPolicyError(
        answer.errors.map((error) => toValidationError('(policy set)', 'parse-error', error)),
      );
    }
    loaded = next;
    slices.clear();
  }

  /**
   * What Cedar evaluates `request` against: the schema of its action and the subset of
   * policies whose scopes match it, or — for a request the schema does not allow, which
   * Cedar refuses with the reason — the whole schema and set.
   */
  function targetFor(request: AuthorizationRequest, store: RequestEntityStore): CedarTarget {
    const whole = { schemaName: prepared.name, policySetId, reads: loaded.reads };
    const holdsActions = baseHoldsActions || holdsActionEntity(request.entities ?? []);
    if (schemaActions === undefined || holdsActions) return whole;
    const matching = matchingPolicies(loaded, schemaActions, request, store);
    if (matching === undefined) return whole;
    const target = { ...whole, schemaName: prepared.nameFor(request.action) };
    if (matching.length === loaded.ids.length) return target;
    const slice = slices.sliceFor(matching.join(','), () => subsetOf(loaded, matching));
    return slice === undefined ? target : { ...target, policySetId: slice.id, reads: slice.about };
  }

  function decide(request: AuthorizationRequest): DecisionCore {
    let store: RequestEntityStore;
    try {
      store = requestEntityStore(request, baseIndex);
    } catch (error) {
      return refused(error instanceof Error ? error.message : String(error));
    }
    const target = targetFor(request, store);
    const entities = entitiesForDecision(request, store, target.reads);
    const context = request.context ?? {};
    const answer = statefulIsAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context:
        schemaAttributes === undefined
          ? context
          : prunedContext(context, schemaAttributes.contextOf(request.action), target.reads),
      entities:
        schemaAttributes === undefined
          ? entities
          : prunedEntities(entities, schemaAttributes, target.reads),
      preparsedSchemaName: target.schemaName,
      preparsedPolicySetId: target.policySetId,
      // Kept on: it checks the context's types and the principal and resource types for
      // the action (~2 µs), which entity parsing alone does not.
      validateRequest: true,
    });
    return toDecision(answer, loaded);
  }

  load(options.policies);

  return {
    policySetId,
    get policySetDigest() {
      return loaded.digest;
    },
    get policyIds() {
      return loaded.ids;
    },
    get policySlices() {
      return slices.size;
    },
    authorize(request) {
      return {
        ...decide(request),
        decisionId: randomUUID(),
        inputDigest: digestAuthorizationRequest(request),
        policySetDigest: loaded.digest,
      };
    },
    replacePolicies(policies) {
      load(policies);
    },
    validatePolicies(policies) {
      return validateCedarPolicies(schema, policies);
    },
    release() {
      preparsePolicySet(policySetId, { staticPolicies: {} });
      slices.release();
      loaded = readPolicySet({});
    },
  };
}
