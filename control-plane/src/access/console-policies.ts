/**
 * The platform's own Cedar policies for what no tenant owns: the platform operator, and
 * organisations with their members. Tenant admins cannot edit these; decisions about one
 * tenant are made by that tenant's policies (plan defaults plus its own, see policies/).
 *
 * An account principal carries `organization` only for the organisation it is a member of,
 * with its role there as parent, so isolation is again one `forbid`.
 */
export const CONSOLE_POLICIES: Readonly<Record<string, string>> = {
  'console/operator': `permit (principal is Citadel::Operator, action, resource);`,
  'console/organization-isolation': `forbid (principal is Citadel::Account, action, resource)
unless {
  resource is Citadel::Organization &&
  principal has organization &&
  principal.organization == resource
};`,
  'console/owners': `permit (
  principal in Citadel::Role::"owner",
  action,
  resource is Citadel::Organization
);`,
  'console/admins': `permit (
  principal in Citadel::Role::"admin",
  action in [Citadel::Action::"readOnly", Citadel::Action::"administer"],
  resource is Citadel::Organization
);`,
  'console/members-and-viewers': `permit (
  principal,
  action in Citadel::Action::"readOnly",
  resource is Citadel::Organization
)
when { principal in Citadel::Role::"member" || principal in Citadel::Role::"viewer" };`,
  // Only owners make owners, or change or remove one: an admin cannot take the company over.
  'console/only-owners-touch-owners': `forbid (
  principal,
  action == Citadel::Action::"member.manage",
  resource
)
when {
  (context has grantsRole && context.grantsRole == "owner") ||
  (context has targetRole && context.targetRole == "owner")
}
unless { principal is Citadel::Operator || principal in Citadel::Role::"owner" };`,
};
