import type { CitadelAction } from '@citadel/data-plane-runtime';

/** What an API request asks for: a platform-wide action, or one on a tenant. */
export type ApiRequestScope =
  | { scope: 'platform'; action: CitadelAction }
  | { scope: 'tenant'; slug: string; action: CitadelAction };

const READ_METHODS = new Set(['GET', 'HEAD']);

/** The tenant's own record: read, delete, or (any other method) update. */
function tenantRecordAction(method: string): CitadelAction {
  if (READ_METHODS.has(method)) return 'tenant.read';
  return method === 'DELETE' ? 'tenant.delete' : 'tenant.update';
}

/**
 * The Cedar action per sub-resource of /api/v1/tenants/{slug}/…, given the method and the
 * segment after the sub-resource (a read, or e.g. `evaluate` that only reads).
 */
const TENANT_SUBRESOURCE_ACTIONS: Readonly<
  Record<string, (read: boolean, next: string | undefined) => CitadelAction>
> = {
  suspend: () => 'tenant.suspend',
  resume: () => 'tenant.suspend',
  'api-keys': () => 'apiKey.manage',
  'scim-tokens': () => 'scim.manage',
  'sso-connections': () => 'sso.manage',
  // A what-if evaluation reads the policies; it changes nothing.
  policies: (read, next) => (read || next === 'evaluate' ? 'policy.read' : 'policy.write'),
  audit: (read, next) => (read || next === 'verify' ? 'audit.read' : 'tenant.update'),
};

function tenantActionFor(method: string, segments: string[]): CitadelAction | undefined {
  const [resource, next] = segments;
  if (resource === undefined) return tenantRecordAction(method);
  if (!Object.hasOwn(TENANT_SUBRESOURCE_ACTIONS, resource)) return undefined;
  return TENANT_SUBRESOURCE_ACTIONS[resource]?.(READ_METHODS.has(method), next);
}

/**
 * Maps a request of the operator API (path relative to /api/v1) to the Cedar action that
 * guards it. One table for every module, so no route is left to decide for itself; a path
 * it does not know is a platform action, which only the operator holds (fail closed).
 */
export function apiRequestScope(method: string, path: string): ApiRequestScope {
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments[0] === 'tenants' && segments[1] !== undefined) {
    let slug = segments[1];
    try {
      slug = decodeURIComponent(slug);
    } catch {
      // a malformed escape: the route's own validation answers it
    }
    const action = tenantActionFor(method.toUpperCase(), segments.slice(2));
    if (action !== undefined) return { scope: 'tenant', slug, action };
  }
  return { scope: 'platform', action: 'platform.manage' };
}
