import { randomUUID } from 'node:crypto';
import { preparsePolicySet } from '@cedar-policy/cedar-wasm/nodejs';

/**
 * Subsets of one authorizer's policy set, each kept pre-parsed inside cedar-wasm under its
 * own id: a decision is evaluated against the subset whose scopes match the request (see
 * policy-scope.ts) instead of against every policy.
 *
 * A subset is named by its signature (the indexes of its policies) and parsed on first use
 * (~0.5 ms). cedar-wasm cannot drop a pre-parsed set, so the number of subsets is capped and
 * their ids are slots that later subsets reuse once the policies change; past the cap,
 * `idFor` answers undefined and the caller uses the whole set. Slot ids are unique to this
 * object: two authorizers sharing a `policySetId` never read each other's subsets.
 */
export interface PolicySlices {
  /** The pre-parsed id of the subset `signature` names, built by `policies()` on first use. */
  idFor(signature: string, policies: () => Record<string, string>): string | undefined;
  /** Forgets every subset (the policies changed); their slots are reused. */
  clear(): void;
  /** Empties every slot inside cedar-wasm and forgets every subset. */
  release(): void;
  /** How many subsets are pre-parsed now. */
  readonly size: number;
}

export function createPolicySlices(policySetId: string, maxSlices: number): PolicySlices {
  const prefix = `${policySetId}/slice-${randomUUID()}-`;
  const slots: string[] = [];
  const bySignature = new Map<string, string>();

  function freeSlot(): string | undefined {
    if (bySignature.size >= maxSlices) return undefined;
    // Slots [0, size) hold current subsets: clear() forgets them all at once, so the next
    // free slot is always the one at index `size`.
    const slot = slots[bySignature.size] ?? `${prefix}${slots.length}`;
    if (slots.length === bySignature.size) slots.push(slot);
    return slot;
  }

  return {
    idFor(signature, policies) {
      const known = bySignature.get(signature);
      if (known !== undefined) return known;
      const slot = freeSlot();
      if (slot === undefined) return undefined;
      const answer = preparsePolicySet(slot, { staticPolicies: policies() });
      if (answer.type === 'failure') return undefined;
      bySignature.set(signature, slot);
      return slot;
    },
    clear() {
      bySignature.clear();
    },
    release() {
      for (const slot of slots) preparsePolicySet(slot, { staticPolicies: {} });
      bySignature.clear();
    },
    get size() {
      return bySignature.size;
    },
  };
}
