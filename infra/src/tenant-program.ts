import { type TenantSpec } from '@citadel/contracts';
import { TenantStack, type TenantPlatformReference } from './tenant-stack.ts';

/** The outputs of a tenant stack, as the operator reads them back. */
export interface TenantStackOutputs {
  keyArn: unknown;
  keyAlias: string;
  gpuNodeGroupName: unknown;
}

/**
 * The inline program of one tenant's stack (see `tenantStackName`), for the Automation API:
 * `LocalWorkspace.createOrSelectStack({ stackName, projectName: 'citadel', program:
 * tenantProgram(spec, platform) })`. The operator passes the platform stack's outputs as
 * `platform`, and sets `aws:region` on the stack.
 */
export function tenantProgram(
  spec: TenantSpec,
  platform: TenantPlatformReference,
): () => Promise<TenantStackOutputs> {
  return () => {
    const stack = new TenantStack(`tenant-${spec.slug}`, { spec, platform });
    return Promise.resolve({
      keyArn: stack.keyArn,
      keyAlias: stack.keyAlias,
      gpuNodeGroupName: stack.gpuNodeGroupName,
    });
  };
}
