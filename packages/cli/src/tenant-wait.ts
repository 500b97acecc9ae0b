import { EXIT_CODES, exitCodeForHttpStatus } from './exit-codes.ts';
import {
  PlatformApiError,
  PlatformUnreachableError,
  type PlatformClient,
  type TenantView,
} from './platform-client.ts';

/** What `--wait` waits for: a phase, or the tenant being gone (delete). */
export type WaitTarget = 'Ready' | 'Suspended' | 'Gone';

/** How a wait ended; every outcome carries the tenant as last seen. */
export type WaitOutcome =
  | { kind: 'reached'; tenant: TenantView }
  | { kind: 'gone'; tenant: TenantView }
  | { kind: 'failed'; tenant: TenantView }
  | { kind: 'timed-out'; tenant: TenantView; lastError: unknown };

/** Inputs of {@link waitForTenant}. */
export interface WaitForTenantOptions {
  client: PlatformClient;
  target: WaitTarget;
  /** The tenant as the request that started the operation returned it. */
  initial: TenantView;
  timeoutMs: number;
  pollIntervalMs: number;
  sleep: (milliseconds: number) => Promise<void>;
  now: () => number;
  /** Called with every observed state, the initial one first. */
  onUpdate: (tenant: TenantView) => void;
  /** Called when a poll failed in a way worth retrying (the platform restarting, say). */
  onRetry: (error: unknown) => void;
}

/**
 * Polls `GET /tenants/{slug}` until the tenant reaches `target`, reaches Failed, or time
 * runs out. A status only counts once it describes the current spec
 * (`observedGeneration >= generation`): right after a request the phase is still the old one.
 */
export async function waitForTenant(options: WaitForTenantOptions): Promise<WaitOutcome> {
  const { client, initial, now } = options;
  const deadline = now() + options.timeoutMs;
  const tracker = createFailureTracker(options.target, initial);
  let latest = initial;
  let lastError: unknown;
  options.onUpdate(initial);
  let verdict = judge(latest, options.target, tracker);

  while (verdict === undefined) {
    const remaining = deadline - now();
    if (remaining <= 0) return { kind: 'timed-out', tenant: latest, lastError };
    await options.sleep(Math.min(options.pollIntervalMs, remaining));
    const polled = await pollOnce(client, latest.slug, options);
    if (polled.kind === 'gone') return { kind: 'gone', tenant: latest };
    if (polled.kind === 'retry') {
      lastError = polled.error;
      continue;
    }
    lastError = undefined;
    latest = polled.tenant;
    options.onUpdate(latest);
    verdict = judge(latest, options.target, tracker);
  }
  return verdict;
}

type PollResult =
  { kind: 'tenant'; tenant: TenantView } | { kind: 'gone' } | { kind: 'retry'; error: unknown };

async function pollOnce(
  client: PlatformClient,
  slug: string,
  options: WaitForTenantOptions,
): Promise<PollResult> {
  try {
    return { kind: 'tenant', tenant: await client.getTenant(slug) };
  } catch (error) {
    if (options.target === 'Gone' && error instanceof PlatformApiError && error.status === 404) {
      return { kind: 'gone' };
    }
    if (!isTransient(error)) throw error;
    options.onRetry(error);
    return { kind: 'retry', error };
  }
}

/** Errors a platform restart or a busy proxy produces; the wait outlives them. */
export function isTransient(error: unknown): boolean {
  if (error instanceof PlatformUnreachableError) return true;
  if (!(error instanceof PlatformApiError)) return false;
  return error.status === 429 || exitCodeForHttpStatus(error.status) === EXIT_CODES.unavailable;
}

interface FailureTracker {
  /** Whether this wait saw the tenant in a phase other than Failed. */
  sawOtherPhase: boolean;
}

function createFailureTracker(target: WaitTarget, initial: TenantView): FailureTracker {
  // Deleting a Failed tenant need not bump its generation, so for a delete only a Failed
  // that follows another phase is a verdict; for the rest the generation check suffices.
  return { sawOtherPhase: target !== 'Gone' || initial.status.phase !== 'Failed' };
}

function judge(
  tenant: TenantView,
  target: WaitTarget,
  tracker: FailureTracker,
): WaitOutcome | undefined {
  const { phase, observedGeneration } = tenant.status;
  if (phase !== 'Failed') tracker.sawOtherPhase = true;
  if (observedGeneration < tenant.metadata.generation) return undefined;
  if (phase === 'Failed' && tracker.sawOtherPhase) return { kind: 'failed', tenant };
  if (phase === target) return { kind: 'reached', tenant };
  return undefined;
}
