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
 * `sliceFor` answers undefined and the caller uses the whole set. Slot ids are unique to this
 * object: two authorizers sharing a `policySetId` never read each other's subsets.
 */
export interface PolicySlices<About> {
  /**
   * The subset `signature` names — its pre-parsed id, and what the caller keeps about it —
   * made by `build()` on first use.
   */
  sliceFor(signature: string, build: () => SliceContents<About>): PolicySlice<About> | undefined;
  /** Forgets every subset (the policies changed); their slots are reused. */
  clear(): void;
  /** Empties every slot inside cedar-wasm and forgets every subset. */
  release(): void;
  /** How many subsets are pre-parsed now. */
  readonly size: number;
}

export interface SliceContents<About> {
  policies: Record<string, string>;
  about: About;
}

export interface PolicySlice<About> {
  /** The id cedar-wasm keeps the subset under. */
  id: string;
  about: About;
}

export function createPolicySlices<About>(
  policySetId: string,
  maxSlices: number,
): PolicySlices<About> {
  const prefix = `${policySetId}/slice-${randomUUID()}-`;
  const slots: string[] = [];
  const bySignature = new Map<string, PolicySlice<About>>();

  function freeSlot(): string | undefined {
    if (bySignature.size >= maxSlices) return undefined;
    // Slots [0, size) hold current subsets: clear() forgets them all at once, so the next
    // free slot is always the one at index `size`.
    const slot = slots[bySignature.size] ?? `${prefix}${slots.length}`;
    if (slots.length === bySignature.size) slots.push(slot);
    return slot;
  }

  return {
    sliceFor(signature, build) {
      const known = bySignature.get(signature);
      if (known !== undefined) return known;
      const slot = freeSlot();
      if (slot === undefined) return undefined;
      const { policies, about } = build();
      const answer = preparsePolicySet(slot, { staticPolicies: policies });
      if (answer.type === 'failure') return undefined;
      const slice = { id: slot, about };
      bySignature.set(signature, slice);
      return slice;
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
