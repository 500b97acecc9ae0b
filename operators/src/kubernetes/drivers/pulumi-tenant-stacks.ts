import { createHash } from 'node:crypto';
import { automation } from '@pulumi/pulumi';
import type { TenantSpec } from '@citadel/contracts';
import type { ObservedCloudKey } from '../../core/observed-state.ts';
import type { TenantRef } from '../../core/tenant-drivers.ts';
import type { DriverLogger } from '../../drivers/local/driver-logger.ts';

/** The stack's program for a spec: `tenantProgram(spec, platform)` of `@citadel/infra` in production. */
export type TenantStackProgram = (spec: TenantSpec) => () => Promise<Record<string, unknown>>;

export interface PulumiTenantStacksOptions {
  /** The Pulumi project of the tenant stacks (`citadel`). */
  projectName: string;
  /** Where stack state lives: `s3://…`, or `file://…` (never Pulumi Cloud unless configured). */
  backendUrl: string;
  program: TenantStackProgram;
  /** Stack configuration set before every update, e.g. `{ 'aws:region': 'eu-west-1' }`. */
  stackConfig?: Record<string, string>;
  /** The CLI to run, its home and environment (secrets passphrase, credentials). */
  workspace?: Pick<automation.LocalWorkspaceOptions, 'pulumiCommand' | 'pulumiHome' | 'envVars'>;
  logger: DriverLogger;
  /** How long an observed stack is trusted without asking the backend again (default 60 s). */
  observationTtlMs?: number;
}

/** What the operator knows of a tenant's stack. */
export interface TenantStackObservation {
  state: ObservedCloudKey['state'];
  outputs: Record<string, unknown>;
}

/** The output that records which spec a stack was last brought up with. */
export const SPEC_DIGEST_OUTPUT = 'citadelSpecDigest';

/** `tenant-<slug>`, as infra names tenant stacks (`tenantStackName`). */
export function tenantStackName(slug: string): string {
  return `tenant-${slug}`;
}

/** The parts of a spec a tenant stack depends on, digested: a change means an update. */
export function tenantStackSpecDigest(spec: TenantSpec): string {
  const relevant = { slug: spec.slug, keys: spec.resources.keys, gpuPool: spec.resources.gpuPool };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

export interface PulumiTenantStacks {
  observe(tenant: TenantRef): Promise<TenantStackObservation>;
  /** `pulumi up` of the tenant's stack with `spec` (the tenant's, or one with its GPU pool off). */
  up(tenant: TenantRef, spec: TenantSpec): Promise<void>;
  /** `pulumi destroy`, then the stack itself is removed. */
  destroy(tenant: TenantRef): Promise<void>;
}

/**
 * One Pulumi stack per tenant (ADR 13), driven through the Automation API with an inline
 * program: the operator process is the program's host, the CLI the engine. Each update
 * records the digest of the spec it was run with as a stack output, so observing a stack
 * (its outputs, cached briefly: every call runs the CLI) says whether it is current.
 */
export function createPulumiTenantStacks(options: PulumiTenantStacksOptions): PulumiTenantStacks {
  const ttl = options.observationTtlMs ?? 60_000;
  const cache = new Map<string, { at: number; outputs: Record<string, unknown> | undefined }>();
  const workspaceOptions = (): automation.LocalWorkspaceOptions => ({
    ...options.workspace,
    projectSettings: {
      name: options.projectName,
      runtime: 'nodejs',
      backend: { url: options.backendUrl },
    },
  });

  const select = (spec: TenantSpec) => {
    const program = options.program(spec);
    const digest = tenantStackSpecDigest(spec);
    return automation.LocalWorkspace.createOrSelectStack(
      {
        stackName: tenantStackName(spec.slug),
        projectName: options.projectName,
        program: async () => ({ ...(await program()), [SPEC_DIGEST_OUTPUT]: digest }),
      },
      workspaceOptions(),
    );
  };

  /** The stack's outputs, or undefined when there is no such stack. */
  const readOutputs = async (tenant: TenantRef): Promise<Record<string, unknown> | undefined> => {
    const workspace = await automation.LocalWorkspace.create(workspaceOptions());
    const name = tenantStackName(tenant.slug);
    const stacks = await workspace.listStacks();
    if (!stacks.some((stack) => stack.name === name)) return undefined;
    const outputs = await workspace.stackOutputs(name);
    return Object.fromEntries(
      Object.entries(outputs).map(([key, output]) => [key, output.value as unknown]),
    );
  };

  return {
    async observe(tenant) {
      let cached = cache.get(tenant.uid);
      if (!cached || Date.now() - cached.at >= ttl) {
        cached = { at: Date.now(), outputs: await readOutputs(tenant) };
        cache.set(tenant.uid, cached);
      }
      const outputs = cached.outputs ?? {};
      const digest = outputs[SPEC_DIGEST_OUTPUT];
      // A stack never brought up (or whose update failed before its outputs) holds nothing.
      if (digest === undefined) return { state: 'absent', outputs };
      return {
        state: digest === tenantStackSpecDigest(tenant.spec) ? 'ready' : 'outdated',
        outputs,
      };
    },
    async up(tenant, spec) {
      cache.delete(tenant.uid);
      const stack = await select(spec);
      if (options.stackConfig) {
        const config = Object.fromEntries(
          Object.entries(options.stackConfig).map(([key, value]) => [key, { value }]),
        );
        await stack.setAllConfig(config);
      }
      const result = await stack.up();
      options.logger.info(
        { tenant: tenant.slug, stack: stack.name, changes: result.summary.resourceChanges },
        'tenant stack updated',
      );
    },
    async destroy(tenant) {
      cache.delete(tenant.uid);
      const workspace = await automation.LocalWorkspace.create(workspaceOptions());
      const name = tenantStackName(tenant.slug);
      if (!(await workspace.listStacks()).some((stack) => stack.name === name)) return;
      const stack = await select(tenant.spec);
      await stack.destroy();
      await workspace.removeStack(name);
      options.logger.info(
        { tenant: tenant.slug, stack: name },
        'tenant stack destroyed and removed',
      );
    },
  };
}
