/** A tenant phase (Ready, Provisioning…) as a coloured badge. */
export function PhaseBadge({ phase }: { phase: string }) {
  return <span className={`badge badge-phase-${phase.toLowerCase()}`}>{phase}</span>;
}

type ConditionLook = 'ready' | 'waiting' | 'not-requested' | 'not-ready';

const CONDITION_LOOKS: Record<ConditionLook, { mark: string; meaning: string }> = {
  ready: { mark: '✓', meaning: 'ready' },
  waiting: { mark: '…', meaning: 'in progress' },
  'not-requested': { mark: '–', meaning: 'not part of the plan' },
  'not-ready': { mark: '✕', meaning: 'not ready' },
};

/**
 * How a condition reads to a person: a False condition is only a problem once the tenant
 * has stopped converging (a component still provisioning is waiting, not failing), and one
 * whose reason is NotRequested (the GPU pool of a plan without one) is simply absent.
 */
export function conditionLook(
  condition: { status: string; reason: string },
  converging: boolean,
): ConditionLook {
  if (condition.status === 'True') return 'ready';
  if (condition.reason === 'NotRequested') return 'not-requested';
  if (condition.status === 'Unknown' || converging) return 'waiting';
  return 'not-ready';
}

/** A condition's look as a mark, with its meaning for screen readers. */
export function ConditionMark({ look }: { look: ConditionLook }) {
  const { mark, meaning } = CONDITION_LOOKS[look];
  return (
    <span className={`condition-mark condition-${look}`}>
      <span aria-hidden="true">{mark}</span>
      <span className="visually-hidden">{meaning}: </span>
    </span>
  );
}

export function RoleBadge({ role }: { role: string | null }) {
  if (role === null) return null;
  return <span className="badge badge-role">{roleLabel(role)}</span>;
}

export function roleLabel(role: string): string {
  return role.charAt(0) + role.slice(1).toLowerCase();
}
