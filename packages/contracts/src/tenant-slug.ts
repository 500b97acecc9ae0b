/**
 * Tenant slugs name a tenant everywhere: URLs (`/t/{slug}/…`), database and role names,
 * Kubernetes namespaces. They are DNS-1123 labels of 3–40 characters and never a
 * reserved word.
 */
export const TENANT_SLUG_MIN_LENGTH = 3;
export const TENANT_SLUG_MAX_LENGTH = 40;

/** Lower-case alphanumerics and '-', starting and ending with an alphanumeric. */
export const TENANT_SLUG_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Names that routes, hostnames or the platform itself already use. */
export const RESERVED_TENANT_SLUGS: ReadonlySet<string> = new Set([
  'admin',
  'api',
  'app',
  'auth',
  'billing',
  'citadel',
  'console',
  'default',
  'docs',
  'graphql',
  'healthz',
  'internal',
  'kube-public',
  'kube-system',
  'login',
  'mail',
  'metrics',
  'platform',
  'postgres',
  'public',
  'readyz',
  'root',
  'scim',
  'static',
  'status',
  'support',
  'system',
  'template0',
  'template1',
  'www',
]);

export type TenantSlugProblem = 'too-short' | 'too-long' | 'invalid-characters' | 'reserved';

/** Returns why `slug` is not a valid tenant slug, or `undefined` when it is valid. */
export function findTenantSlugProblem(slug: string): TenantSlugProblem | undefined {
  if (slug.length < TENANT_SLUG_MIN_LENGTH) return 'too-short';
  if (slug.length > TENANT_SLUG_MAX_LENGTH) return 'too-long';
  if (!TENANT_SLUG_PATTERN.test(slug)) return 'invalid-characters';
  if (RESERVED_TENANT_SLUGS.has(slug)) return 'reserved';
  return undefined;
}

export const TENANT_SLUG_PROBLEM_MESSAGES: Record<TenantSlugProblem, string> = {
  'too-short': `must be at least ${TENANT_SLUG_MIN_LENGTH} characters`,
  'too-long': `must be at most ${TENANT_SLUG_MAX_LENGTH} characters`,
  'invalid-characters':
    'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit',
  reserved: 'is reserved by the platform',
};
