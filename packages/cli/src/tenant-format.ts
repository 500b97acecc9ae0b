import type { TenantCondition, TenantPhase } from '@citadel/contracts';
import type { TenantView } from './platform-client.ts';
import { stripAnsi, type TerminalStyle } from './terminal-style.ts';

/** Phases in which the platform has stopped working on the tenant. */
const SETTLED_PHASES: ReadonlySet<TenantPhase> = new Set(['Ready', 'Suspended', 'Failed']);

/**
 * Whether the status describes the current spec and the platform is no longer moving it:
 * until then a False condition is "not yet", not "failed".
 */
export function isTenantSettled(tenant: TenantView): boolean {
  return (
    SETTLED_PHASES.has(tenant.status.phase) &&
    tenant.status.observedGeneration >= tenant.metadata.generation
  );
}

/** How many conditions are True, of how many. */
export function countReadyConditions(tenant: TenantView): { ready: number; total: number } {
  const { conditions } = tenant.status;
  return {
    ready: conditions.filter((condition) => condition.status === 'True').length,
    total: conditions.length,
  };
}

/** `✓` True, `✗` False once the tenant has settled, `…` while it may still change. */
export function conditionSymbol(
  condition: TenantCondition,
  tenant: TenantView,
  style: TerminalStyle,
): string {
  if (condition.status === 'True') return style.green('✓');
  if (condition.status === 'False' && isTenantSettled(tenant)) {
    return tenant.status.phase === 'Failed' ? style.red('✗') : style.yellow('✗');
  }
  return style.yellow('…');
}

/** One line per condition: symbol, type, reason and message, in aligned columns. */
export function formatConditionLines(tenant: TenantView, style: TerminalStyle): string[] {
  const { conditions } = tenant.status;
  const typeWidth = Math.max(0, ...conditions.map((condition) => condition.type.length));
  const reasonWidth = Math.max(0, ...conditions.map((condition) => condition.reason.length));
  return conditions.map((condition) => {
    const symbol = conditionSymbol(condition, tenant, style);
    const type = condition.type.padEnd(typeWidth);
    const reason = condition.reason.padEnd(reasonWidth);
    const message = condition.message === '' ? '' : `  ${style.dim(condition.message)}`;
    return `${symbol} ${type}  ${reason}${message}`.trimEnd();
  });
}

/** The phase, coloured by what it means for the user. */
export function formatPhase(phase: TenantPhase, style: TerminalStyle): string {
  if (phase === 'Ready') return style.green(phase);
  if (phase === 'Failed') return style.red(phase);
  if (phase === 'Suspended') return style.dim(phase);
  return style.yellow(phase);
}

/** Elapsed time the way kubectl shows it: `42s`, `7m`, `5h`, `3d`. */
export function formatAge(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

function ageSince(timestamp: string, now: number): string {
  const since = Date.parse(timestamp);
  return Number.isNaN(since) ? '?' : formatAge(now - since);
}

/** Pads cells to the widest visible text of their column (styles do not count). */
export function formatTable(rows: ReadonlyArray<readonly string[]>): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, stripAnsi(cell).length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const padding = (widths[column] ?? 0) - stripAnsi(cell).length;
        return column === row.length - 1 ? cell : cell + ' '.repeat(padding);
      })
      .join('   '),
  );
}

/** The `tenants list` table: SLUG PLAN PHASE READY AGE. */
export function formatTenantTable(
  tenants: readonly TenantView[],
  now: number,
  style: TerminalStyle,
): string[] {
  const header = ['SLUG', 'PLAN', 'PHASE', 'READY', 'AGE'];
  const rows = tenants.map((tenant) => {
    const { ready, total } = countReadyConditions(tenant);
    return [
      tenant.slug,
      tenant.plan,
      formatPhase(tenant.status.phase, style),
      `${ready}/${total}`,
      ageSince(tenant.metadata.creationTimestamp, now),
    ];
  });
  return formatTable([header, ...rows]);
}

/** The `tenants get` summary: identity, phase, conditions and endpoints. */
export function formatTenantSummary(
  tenant: TenantView,
  now: number,
  style: TerminalStyle,
): string[] {
  const { metadata, spec, status } = tenant;
  const fields: Array<[string, string]> = [
    ['Slug', tenant.slug],
    ['Display name', tenant.displayName],
    ['Plan', tenant.plan],
    ['Region', spec.region],
    ['Phase', formatPhase(status.phase, style)],
    ['Suspended', spec.suspended ? 'yes' : 'no'],
    ['Generation', `${metadata.generation} (observed ${status.observedGeneration})`],
    ['Created', `${metadata.creationTimestamp} (${ageSince(metadata.creationTimestamp, now)} ago)`],
  ];
  if (metadata.deletionTimestamp !== undefined) {
    fields.push(['Deleting since', metadata.deletionTimestamp]);
  }
  const { ready, total } = countReadyConditions(tenant);
  return [
    ...formatTable(fields.map(([label, value]) => [`${label}:`, value])),
    '',
    `Conditions (${ready}/${total} True):`,
    ...indent(formatConditionLines(tenant, style)),
    '',
    'Endpoints:',
    ...indent(formatEndpoints(tenant)),
  ];
}

/** `name  url` lines, or a note that the tenant is not served yet. */
export function formatEndpoints(tenant: TenantView): string[] {
  const entries = Object.entries(tenant.status.endpoints);
  if (entries.length === 0) return ['(none yet)'];
  return formatTable(entries.map(([name, url]) => [name, url]));
}

function indent(lines: readonly string[]): string[] {
  return lines.map((line) => `  ${line}`);
}
