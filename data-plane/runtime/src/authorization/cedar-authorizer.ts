import { createHash, randomUUID } from 'node:crypto';
import {
  checkParsePolicySet,
  policySetTextToParts,
  policyToJson,
  preparsePolicySet,
  preparseSchema,
  statefulIsAuthorized,
  validate,
  type AuthorizationAnswer,
  type CedarValueJson,
  type DetailedError,
  type Schema,
} from '@cedar-policy/cedar-wasm/nodejs';
import { canonicalJson, type JsonValue as CanonicalJsonValue } from '@citadel/contracts';

export type { CedarValueJson };

/** A Cedar entity reference, e.g. `{type: 'Citadel::User', id: '…'}`. */
export interface CedarEntityUid {
  type: string;
  id: string;
}

/** An entity as Cedar's JSON entity format writes it. */
export interface CedarEntity {
  uid: CedarEntityUid;
  attrs: Record<string, CedarValueJson>;
  parents: CedarEntityUid[];
  tags?: Record<string, CedarValueJson>;
}

/** One authorisation question. `entities` are added to the authorizer's own for this call. */
export interface AuthorizationRequest {
  principal: CedarEntityUid;
  action: CedarEntityUid;
  resource: CedarEntityUid;
  context?: Record<string, CedarValueJson>;
  entities?: CedarEntity[];
}

/** The answer, with what an audit record needs to explain and replay it. */
export interface AuthorizationDecision {
  decision: 'allow' | 'deny';
  /** A new UUID per decision. */
  decisionId: string;
  /** The policies that decided: the satisfied `forbid`s on deny, the satisfied `permit`s on allow. */
  determiningPolicies: string[];
  /** Evaluation errors (`policy id: message`), or why the request itself was refused. */
  errors: string[];
  /** hex SHA-256 of the canonical JSON of the request (entities ordered by uid). */
  inputDigest: string;
  /** hex SHA-256 of the policy set that answered (ids and texts, canonical JSON). */
  policySetDigest: string;
}

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
  /** Entities present in every request (role hierarchy, the tenant…). */
  entities?: CedarEntity[];
  /**
   * The id under which the policy set is kept pre-parsed inside cedar-wasm. Cedar keeps
   * pre-parsed sets for the life of the process and has no call to drop one: long-lived
   * owners (one per tenant) should pass a stable id so replacing reuses the slot.
   * Default: a new UUID.
   */
  policySetId?: string;
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
}

const preparsedSchemas = new Set<string>();

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function schemaText(schema: Schema): string {
  return typeof schema === 'string'
    ? schema
    : canonicalJson(schema as unknown as CanonicalJsonValue);
}

/** Pre-parses a schema once per process, keyed by its digest. */
function preparseSchemaOnce(schema: Schema): string {
  const name = `schema-${sha256(schemaText(schema))}`;
  if (preparsedSchemas.has(name)) return name;
  const answer = preparseSchema(name, schema);
  if (answer.type === 'failure') {
    throw new TypeError(`invalid Cedar schema: ${answer.errors.map((e) => e.message).join('; ')}`);
  }
  preparsedSchemas.add(name);
  return name;
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

function uidKey(uid: CedarEntityUid): string {
  return `${uid.type}::${JSON.stringify(uid.id)}`;
}

/**
 * The request's digest (hex SHA-256 of its canonical JSON, entities ordered by uid): the same
 * question always hashes the same, however it was written.
 */
export function digestAuthorizationRequest(request: AuthorizationRequest): string {
  const entities = [...(request.entities ?? [])].sort((a, b) =>
    uidKey(a.uid) < uidKey(b.uid) ? -1 : 1,
  );
  const canonical = canonicalJson({
    principal: { ...request.principal },
    action: { ...request.action },
    resource: { ...request.resource },
    context: (request.context ?? {}) as CanonicalJsonValue,
    entities: entities as unknown as CanonicalJsonValue,
  });
  return sha256(canonical);
}

function forbidIdsOf(policies: Readonly<Record<string, string>>): Set<string> {
  const forbids = new Set<string>();
  for (const [policyId, text] of Object.entries(policies)) {
    const json = policyToJson(text);
    if (json.type === 'success' && json.json.effect === 'forbid') forbids.add(policyId);
  }
  return forbids;
}

interface LoadedPolicySet {
  digest: string;
  ids: readonly string[];
  forbidIds: ReadonlySet<string>;
}

/** Answers the request from cedar's response, failing closed. */
function toDecision(
  answer: AuthorizationAnswer,
  loaded: LoadedPolicySet,
): Pick<AuthorizationDecision, 'decision' | 'determiningPolicies' | 'errors'> {
  if (answer.type === 'failure') {
    return {
      decision: 'deny',
      determiningPolicies: [],
      errors: answer.errors.map((e) => e.message),
    };
  }
  const { decision, diagnostics } = answer.response;
  const errors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`);
  // Cedar skips a policy whose evaluation fails. A skipped forbid would grant what it guards
  // (an isolation rule with a missing principal entity, say), so an erroring forbid denies.
  const erroredForbids = diagnostics.errors
    .map((error) => error.policyId)
    .filter((policyId) => loaded.forbidIds.has(policyId));
  if (decision === 'allow' && erroredForbids.length > 0) {
    return { decision: 'deny', determiningPolicies: erroredForbids, errors };
  }
  return { decision, determiningPolicies: diagnostics.reason, errors };
}

/**
 * Builds an authorizer: the schema and the policy set are parsed once (and the policies
 * validated against the schema); each decision then costs one `statefulIsAuthorized` call.
 *
 * @throws CedarPolicyError when a policy does not parse or validate.
 */
export function createCedarAuthorizer(options: CedarAuthorizerOptions): CedarAuthorizer {
  const { schema } = options;
  const schemaName = preparseSchemaOnce(schema);
  const policySetId = options.policySetId ?? `citadel-${randomUUID()}`;
  const baseEntities = options.entities ?? [];
  const baseKeys = baseEntities.map((entity) => uidKey(entity.uid));
  let loaded: LoadedPolicySet = { digest: '', ids: [], forbidIds: new Set() };

  function load(policies: Readonly<Record<string, string>>): void {
    const errors = validateCedarPolicies(schema, policies);
    if (errors.length > 0) throw new CedarPolicyError(errors);
    const answer = preparsePolicySet(policySetId, { staticPolicies: { ...policies } });
    if (answer.type === 'failure') {
      throw new CedarPolicyError(
        answer.errors.map((error) => toValidationError('(policy set)', 'parse-error', error)),
      );
    }
    loaded = {
      digest: sha256(canonicalJson({ ...policies })),
      ids: Object.keys(policies),
      forbidIds: forbidIdsOf(policies),
    };
  }

  /** The authorizer's entities plus the request's; the request's win on the same uid. */
  function entitiesFor(request: AuthorizationRequest): CedarEntity[] {
    const extra = request.entities ?? [];
    if (extra.length === 0) return baseEntities;
    if (baseEntities.length === 0) return extra;
    const overridden = new Set(extra.map((entity) => uidKey(entity.uid)));
    const kept = baseEntities.filter((_, index) => !overridden.has(baseKeys[index] ?? ''));
    return [...kept, ...extra];
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
    authorize(request) {
      const answer = statefulIsAuthorized({
        principal: request.principal,
        action: request.action,
        resource: request.resource,
        context: request.context ?? {},
        entities: entitiesFor(request),
        preparsedSchemaName: schemaName,
        preparsedPolicySetId: policySetId,
        validateRequest: true,
      });
      return {
        ...toDecision(answer, loaded),
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
      loaded = { digest: sha256(canonicalJson({})), ids: [], forbidIds: new Set() };
    },
  };
}
