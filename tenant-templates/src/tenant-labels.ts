import type { TenantSpec } from '@citadel/contracts';

/** The version of the per-tenant templates; stamped on every manifest they produce. */
export const TENANT_TEMPLATE_VERSION = '2026-11-24.1';

/** Labels every per-tenant resource carries, whichever driver creates it. */
export function tenantLabels(spec: TenantSpec): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'citadel',
    'citadel.azora.dev/tenant': spec.slug,
    'citadel.azora.dev/plan': spec.plan,
    'citadel.azora.dev/template-version': TENANT_TEMPLATE_VERSION,
  };
}
