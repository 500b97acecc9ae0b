/**
 * The four roles a console account can hold in an organisation or on one tenant. The same
 * names are Cedar `Role` entities, so policies grant by role whatever the scope.
 */
export const MEMBER_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

const RANK: Readonly<Record<MemberRole, number>> = { viewer: 1, member: 2, admin: 3, owner: 4 };

export function isMemberRole(value: unknown): value is MemberRole {
  return typeof value === 'string' && (MEMBER_ROLES as readonly string[]).includes(value);
}

/**
 * The stronger of two roles. An account's role on a tenant is the stronger of its role in
 * the organisation that owns the tenant and the role granted on that tenant alone.
 */
export function strongerRole(
  a: MemberRole | undefined,
  b: MemberRole | undefined,
): MemberRole | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** A stored role column as a role; anything unknown grants nothing. */
export function asMemberRole(value: string | null | undefined): MemberRole | undefined {
  return isMemberRole(value) ? value : undefined;
}
