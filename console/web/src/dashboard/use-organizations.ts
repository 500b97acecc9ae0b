import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api/api-error.ts';
import { listOrganizations, type Organization, type Tenant } from '../api/console-operations.ts';

/** How often tenants on their way somewhere are looked at again. */
export const POLL_INTERVAL_MS = 2_000;

/** True when the tenant is where its spec wants it: Ready, or Suspended when suspended. */
export function tenantSettled(tenant: Tenant): boolean {
  if (tenant.deleting) return false;
  return tenant.suspended ? tenant.phase === 'Suspended' : tenant.phase === 'Ready';
}

export interface OrganizationsState {
  organizations: Organization[] | undefined;
  error: string | undefined;
  /** Loads again now; mutations call it so the page shows their effect. */
  reload: () => Promise<void>;
}

/**
 * The caller's organisations with their tenants and members, polled every two seconds while
 * any tenant has not settled (so phases and conditions are live during provisioning).
 */
export function useOrganizations(): OrganizationsState {
  const [organizations, setOrganizations] = useState<Organization[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  // Answers may arrive out of order (a poll and a reload): only the newest request counts.
  const latest = useRef(0);

  const reload = useCallback(async () => {
    const request = ++latest.current;
    try {
      const loaded = await listOrganizations();
      if (request !== latest.current) return;
      setOrganizations(loaded);
      setError(undefined);
    } catch (failure) {
      if (request === latest.current) setError(describeError(failure));
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  const polling =
    organizations?.some((organization) =>
      organization.tenants.some((tenant) => !tenantSettled(tenant)),
    ) ?? false;

  useEffect(() => {
    if (!polling) return;
    const timer = window.setInterval(() => void reload(), POLL_INTERVAL_MS);
    return () => window.clearInterval(timer);
  }, [polling, reload]);

  return { organizations, error, reload };
}
