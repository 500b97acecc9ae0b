import { MEMBER_ROLES, type MemberRole } from '../api/console-operations.ts';

/**
 * What the console offers to whom. These only decide which controls are shown; the platform
 * decides every request itself (Cedar) and its refusal is shown when it disagrees.
 */
export function canAdminister(role: MemberRole | null): boolean {
  return role === 'OWNER' || role === 'ADMIN';
}

/** Owners alone make, change or remove owners. */
export function canManageMember(myRole: MemberRole | null, memberRole: MemberRole): boolean {
  if (!canAdminister(myRole)) return false;
  return memberRole !== 'OWNER' || myRole === 'OWNER';
}

/** The roles `myRole` may grant. */
export function grantableRoles(myRole: MemberRole | null): MemberRole[] {
  if (myRole === 'OWNER') return [...MEMBER_ROLES];
  if (myRole === 'ADMIN') return MEMBER_ROLES.filter((role) => role !== 'OWNER');
  return [];
}

export const ROLE_DESCRIPTIONS: Record<MemberRole, string> = {
  OWNER: 'Owner — everything, including owners and deletion',
  ADMIN: 'Admin — members, tenants, API keys',
  MEMBER: 'Member — uses the tenants',
  VIEWER: 'Viewer — reads only',
};
