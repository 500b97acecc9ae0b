import { changeTenantState, type Tenant } from '../api/console-operations.ts';
import {
  ConditionMark,
  PhaseBadge,
  RoleBadge,
  conditionLook,
} from '../components/status-badge.tsx';
import { ApiKeyCreator } from './api-key-creator.tsx';
import { canAdminister } from './roles.ts';
import { tenantSettled } from './use-organizations.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { FormError } from '../components/form-controls.tsx';
import { useChange } from './use-change.ts';

/** Phases in which components are still being worked on. */
const CONVERGING_PHASES = new Set(['Pending', 'Provisioning', 'Deleting']);

type LifecycleChange = 'suspendTenant' | 'resumeTenant' | 'deleteTenant';

function Conditions({ tenant }: { tenant: Tenant }) {
  if (tenant.conditions.length === 0) return <p className="muted">Waiting for the reconciler…</p>;
  const converging = CONVERGING_PHASES.has(tenant.phase);
  return (
    <ul className="conditions" aria-label={`Conditions of ${tenant.slug}`}>
      {tenant.conditions.map((condition) => (
        <li key={condition.type} title={condition.message}>
          <ConditionMark look={conditionLook(condition, converging)} />
          <span className="condition-type">{condition.type}</span>
          <span className="condition-reason">{condition.reason}</span>
        </li>
      ))}
    </ul>
  );
}

function Lifecycle({ tenant, onChanged }: { tenant: Tenant; onChanged: () => Promise<void> }) {
  const { busy, error, run } = useChange(onChanged);
  const change = (what: LifecycleChange) => run(() => changeTenantState(tenant.slug, what));

  if (tenant.deleting) return null;
  return (
    <div className="tenant-lifecycle">
      {tenant.suspended ? (
        <button
          type="button"
          className="button"
          disabled={busy}
          onClick={() => void change('resumeTenant')}
        >
          Resume
        </button>
      ) : (
        <button
          type="button"
          className="button"
          disabled={busy}
          onClick={() => void change('suspendTenant')}
        >
          Suspend
        </button>
      )}
      <ConfirmButton
        label="Delete…"
        confirmLabel={`Delete ${tenant.slug} and its data`}
        cancelLabel="Keep it"
        busy={busy}
        onConfirm={() => change('deleteTenant')}
      />
      <FormError message={error} />
    </div>
  );
}

/** One tenant: its phase and conditions (live while it converges), endpoints and actions. */
export function TenantCard({
  tenant,
  onChanged,
}: {
  tenant: Tenant;
  onChanged: () => Promise<void>;
}) {
  const gateway = tenant.endpoints.find((endpoint) => endpoint.name === 'gateway');
  const administer = canAdminister(tenant.myRole);
  return (
    <article className="tenant-card" aria-labelledby={`tenant-${tenant.slug}`}>
      <header className="tenant-header">
        <div>
          <h4 id={`tenant-${tenant.slug}`}>{tenant.displayName}</h4>
          <p className="muted">
            <code>{tenant.slug}</code> · {tenant.plan} plan <RoleBadge role={tenant.myRole} />
          </p>
        </div>
        <div className="tenant-phase" aria-live="polite">
          <span className="visually-hidden">Phase of {tenant.slug}: </span>
          <PhaseBadge phase={tenant.phase} />
          {!tenantSettled(tenant) && <span className="spinner" aria-hidden="true" />}
        </div>
      </header>
      <Conditions tenant={tenant} />
      {gateway !== undefined && (
        <p className="endpoint">
          Gateway: <code>{gateway.url}</code>
        </p>
      )}
      {administer && !tenant.deleting && (
        <div className="tenant-actions">
          <ApiKeyCreator tenant={tenant.slug} />
          <Lifecycle tenant={tenant} onChanged={onChanged} />
        </div>
      )}
    </article>
  );
}
