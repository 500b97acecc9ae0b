import type { PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import { entityKey, type CedarEntityUid } from './authorization-request.ts';

/**
 * A policy's scope — the `principal`, `action`, `resource` constraints in its head — in a form
 * that can be checked without Cedar. Cedar evaluates a policy as `scope && conditions`, and a
 * scope never errors, so a policy whose scope does not match a request can neither be
 * satisfied nor fail on it: leaving it out of the set Cedar evaluates changes nothing in the
 * answer, and saves the 2–4 µs cedar-wasm spends on every policy it is given.
 */
export interface PolicyScope {
  principal: EntityConstraint;
  action: ActionConstraint;
  resource: EntityConstraint;
}

/** `unknown` is a shape this reader does not know: it always matches. */
type EntityConstraint =
  | { op: 'any' }
  | { op: 'eq'; key: string }
  | { op: 'in'; key: string }
  | { op: 'is'; type: string; inKey?: string }
  | { op: 'unknown' };

type ActionConstraint =
  { op: 'any' } | { op: 'eq'; key: string } | { op: 'in'; keys: string[] } | { op: 'unknown' };

/** What a scope is checked against of one request. */
export interface ScopeFacts {
  principal: EntityFacts;
  action: {
    key: string;
    /** The keys of the action groups the action is in, from the schema. */
    groups: ReadonlySet<string>;
  };
  resource: EntityFacts;
}

export interface EntityFacts {
  type: string;
  /** See `entityKey`. */
  key: string;
  /** The keys of its ancestors in the request's entities. */
  ancestors: ReadonlySet<string>;
}

interface EntityConstraintJson {
  op?: unknown;
  entity?: unknown;
  entities?: unknown;
  entity_type?: unknown;
  in?: { entity?: unknown };
}

function uidKeyOf(value: unknown): string | undefined {
  const uid = value as Partial<CedarEntityUid> | undefined;
  if (typeof uid?.type !== 'string' || typeof uid.id !== 'string') return undefined;
  return entityKey({ type: uid.type, id: uid.id });
}

function entityConstraint(json: EntityConstraintJson): EntityConstraint {
  const key = uidKeyOf(json.entity);
  switch (json.op) {
    case 'All':
      return { op: 'any' };
    case '==':
      return key === undefined ? { op: 'unknown' } : { op: 'eq', key };
    case 'in':
      return key === undefined ? { op: 'unknown' } : { op: 'in', key };
    case 'is':
      return isConstraint(json);
    default:
      return { op: 'unknown' };
  }
}

function isConstraint(json: EntityConstraintJson): EntityConstraint {
  if (typeof json.entity_type !== 'string') return { op: 'unknown' };
  if (json.in === undefined) return { op: 'is', type: json.entity_type };
  const inKey = uidKeyOf(json.in.entity);
  return inKey === undefined ? { op: 'unknown' } : { op: 'is', type: json.entity_type, inKey };
}

function actionConstraint(json: EntityConstraintJson): ActionConstraint {
  if (json.op === 'All') return { op: 'any' };
  if (json.op === '==') {
    const key = uidKeyOf(json.entity);
    return key === undefined ? { op: 'unknown' } : { op: 'eq', key };
  }
  if (json.op !== 'in') return { op: 'unknown' };
  const listed: unknown[] = Array.isArray(json.entities) ? json.entities : [json.entity];
  const keys = listed.map(uidKeyOf).filter((key) => key !== undefined);
  return keys.length === listed.length ? { op: 'in', keys } : { op: 'unknown' };
}

/** Reads the scope of a policy from Cedar's JSON form of it (`policyToJson`). */
export function readPolicyScope(policy: PolicyJson): PolicyScope {
  return {
    principal: entityConstraint(policy.principal as EntityConstraintJson),
    action: actionConstraint(policy.action),
    resource: entityConstraint(policy.resource as EntityConstraintJson),
  };
}

function entityMatches(constraint: EntityConstraint, facts: EntityFacts): boolean {
  switch (constraint.op) {
    case 'eq':
      return facts.key === constraint.key;
    case 'in':
      return facts.key === constraint.key || facts.ancestors.has(constraint.key);
    case 'is':
      return (
        facts.type === constraint.type &&
        (constraint.inKey === undefined ||
          facts.key === constraint.inKey ||
          facts.ancestors.has(constraint.inKey))
      );
    default:
      return true;
  }
}

function actionMatches(constraint: ActionConstraint, facts: ScopeFacts['action']): boolean {
  if (constraint.op === 'eq') return facts.key === constraint.key;
  if (constraint.op !== 'in') return true;
  // `action in [A, B]` holds for A and B themselves and for every action in their groups.
  return constraint.keys.some((key) => key === facts.key || facts.groups.has(key));
}

/** Whether `scope` may match the request `facts` describe (false only when it cannot). */
export function scopeMatches(scope: PolicyScope, facts: ScopeFacts): boolean {
  return (
    actionMatches(scope.action, facts.action) &&
    entityMatches(scope.principal, facts.principal) &&
    entityMatches(scope.resource, facts.resource)
  );
}
