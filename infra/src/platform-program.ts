import { CitadelPlatform, type PlatformOutputs } from './citadel-platform.ts';
import { type PlatformConfig, readPlatformConfig } from './platform-config.ts';
import { readTenantCrd } from './tenant-crd.ts';

/**
 * The platform stack's program: reads the stack configuration and the Tenant CRD, builds the
 * platform, and returns what becomes the stack's outputs.
 */
export function platformProgram(config: PlatformConfig = readPlatformConfig()): PlatformOutputs {
  const platform = new CitadelPlatform('citadel', {
    config,
    tenantCrd: readTenantCrd(config.tenantCrdPath),
  });
  return platform.outputs;
}
