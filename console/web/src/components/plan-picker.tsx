import { PLAN_CATALOG, type PlanDefinition } from '@citadel/contracts/plan-catalog';

function price(plan: PlanDefinition): string {
  const amount = new Intl.NumberFormat('en', {
    style: 'currency',
    currency: plan.currency.toUpperCase(),
    maximumFractionDigits: 0,
  }).format(plan.monthlyPriceCents / 100);
  return `${amount} / month`;
}

function summary(plan: PlanDefinition): string {
  const { quota, vectorStore } = plan.limits;
  const gpu = plan.gpuEntitled ? ', GPU pool' : '';
  return `${quota.cpu} vCPU, ${quota.memory} memory, ${vectorStore.dimensions}-d vectors${gpu}`;
}

/** The plans as radio cards; the catalog is the one the platform itself seeds. */
export function PlanPicker({
  name,
  value,
  onChange,
  legend = 'Plan',
}: {
  name: string;
  value: string;
  onChange: (plan: string) => void;
  legend?: string;
}) {
  return (
    <fieldset className="plan-picker">
      <legend>{legend}</legend>
      <div className="plan-options">
        {PLAN_CATALOG.map((plan) => (
          <label key={plan.id} className="plan-option">
            <input
              type="radio"
              name={name}
              value={plan.id}
              checked={value === plan.id}
              onChange={() => onChange(plan.id)}
            />
            <span className="plan-name">{plan.displayName}</span>
            <span className="plan-price">{price(plan)}</span>
            <span className="plan-summary">{summary(plan)}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
