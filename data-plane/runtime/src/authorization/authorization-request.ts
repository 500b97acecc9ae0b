import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';

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
  /**
   * The policies that decided, sorted: the satisfied `forbid`s on deny, the satisfied
   * `permit`s on allow.
   */
  determiningPolicies: string[];
  /** Evaluation errors (`policy id: message`), or why the request itself was refused. */
  errors: string[];
  /** hex SHA-256 of the canonical JSON of the request (entities ordered by uid). */
  inputDigest: string;
  /** hex SHA-256 of the policy set that answered (ids and texts, canonical JSON). */
  policySetDigest: string;
}

/**
 * A uid as one string, for maps and sets. Cedar type names cannot hold a newline, so the
 * first newline always separates the type from the id.
 */
export function entityKey(uid: CedarEntityUid): string {
  return `${uid.type}\n${uid.id}`;
}
