import type { CitadelAction } from '@citadel/data-plane-runtime';

/** What an API request asks for: a platform-wide action, or one on a tenant. */
export type ApiRequestScope =
  | { scope: 'platform'; action: CitadelAction }
  | { scope: 'tenant'; slug: string; action: CitadelAction };

const READ_METHODS = new Set(['GET', 'HEAD']);

/** The Cedar action of a request under /api/v1/tenants/{slug}/{resource}/… . */
function tenantActionFor(method: string, segments: string[]): CitadelAction | undefined {
  const read = READ_METHODS.has(method);
  const [resource, second] = segments;
  switch (resource) {
    case undefined:
      if (read) return 'tenant.read';
      return method === 'DELETE' ? 'tenant.delete' : 'tenant.update';
    case 'suspend':
    case 'resume':
      return 'tenant.suspend';
    case 'api-keys':
      return 'apiKey.manage';
    case 'scim-tokens':
      return 'scim.manage';
    case 'sso-connections':
      return 'sso.manage';
    case 'policies':
      // A what-if evaluation reads the policies; it changes nothing.
      return read || second === 'evaluate' ? 'policy.read' : 'policy.write';
    case 'audit':
      return read || second === 'verify' ? 'audit.read' : 'tenant.update';
    default:
      return undefined;
  }
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
