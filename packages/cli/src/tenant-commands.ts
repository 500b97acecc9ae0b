import { PLAN_CATALOG } from '@citadel/contracts';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from './cli-error.ts';
import { createCliSession, type CitadelProgramDeps, type CliSession } from './cli-session.ts';
import { EXIT_CODES } from './exit-codes.ts';
import type { TenantPage, TenantView } from './platform-client.ts';
import { formatEndpoints, formatTenantSummary, formatTenantTable } from './tenant-format.ts';
import { createTenantProgress, formatElapsed } from './tenant-progress.ts';
import { isTransient, waitForTenant, type WaitOutcome, type WaitTarget } from './tenant-wait.ts';

/** `--wait` polls this often, as the CLI's contract says. */
export const WAIT_POLL_INTERVAL_MS = 250;
const DEFAULT_WAIT_TIMEOUT_SECONDS = 300;

interface WaitOptions {
  wait?: boolean;
  timeout: number;
}

interface CreateOptions extends WaitOptions {
  plan: string;
  displayName?: string;
}

interface ListOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

interface DeleteOptions extends WaitOptions {
  yes?: boolean;
}

/** Dependencies with their defaults filled in. */
type TenantCommandDeps = CitadelProgramDeps & Required<Pick<CitadelProgramDeps, 'sleep' | 'now'>>;

/** Adds `tenants create|list|get|suspend|resume|delete` to the program. */
export function addTenantCommands(program: Command, deps: TenantCommandDeps): void {
  const tenants = program
    .command('tenants')
    .description('create, inspect, suspend, resume and delete tenants');

  addCreateCommand(tenants, deps);
  addListCommand(tenants, deps);
  addGetCommand(tenants, deps);
  addSuspendResumeCommands(tenants, deps);
  addDeleteCommand(tenants, deps);
}

function addCreateCommand(tenants: Command, deps: TenantCommandDeps): void {
  const plans = PLAN_CATALOG.map((plan) => plan.id).join(', ');
  tenants
    .command('create')
    .description('create a tenant; its data plane is provisioned in the background')
    .argument('<slug>', 'DNS-1123 label naming the tenant everywhere (3-40 characters)')
    .addOption(new Option('--plan <plan>', `plan (${plans})`).makeOptionMandatory())
    .option('--display-name <name>', 'human-readable name (default: the slug)')
    .addOption(waitOption('until the tenant is Ready'))
    .addOption(timeoutOption())
    .action(async (slug: string, options: CreateOptions, command: Command) => {
      const session = createCliSession(command, deps);
      const tenant = await session.client.createTenant({
        slug,
        displayName: options.displayName ?? slug,
        plan: options.plan,
      });
      await finishOperation(session, deps, { tenant, target: 'Ready', verb: 'created', options });
    });
}

function addListCommand(tenants: Command, deps: TenantCommandDeps): void {
  tenants
    .command('list')
    .description('list tenants, one page at a time unless --all')
    .option('--limit <n>', 'tenants per page', parseCount)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow the pages to the end')
    .action(async (options: ListOptions, command: Command) => {
      const session = createCliSession(command, deps);
      const page =
        options.all === true ? await listAll(session, options) : await listPage(session, options);
      if (session.output === 'json') {
        session.printJson(page);
        return;
      }
      session.print(formatTenantTable(page.items, deps.now(), session.stdoutStyle));
      if (page.nextCursor !== undefined) {
        deps.stderr.write(
          session.stderrStyle.dim(`more tenants: --cursor ${page.nextCursor}, or --all\n`),
        );
      }
    });
}

function listPage(session: CliSession, options: ListOptions): Promise<TenantPage> {
  return session.client.listTenants({
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  });
}

/** Follows `nextCursor` to the last page; the result has the shape of a last page. */
async function listAll(session: CliSession, options: ListOptions): Promise<TenantPage> {
  const items: TenantView[] = [];
  const seenCursors = new Set<string>();
  let cursor = options.cursor;
  for (;;) {
    const page = await listPage(session, { ...options, cursor });
    items.push(...page.items);
    if (page.nextCursor === undefined) return { items };
    // A server that hands out the same cursor twice would keep us here forever.
    if (seenCursors.has(page.nextCursor)) {
      throw new CliError({
        exitCode: EXIT_CODES.unexpected,
        code: 'pagination-loop',
        title: 'Pagination loop',
        detail: `the platform returned cursor "${page.nextCursor}" twice`,
      });
    }
    seenCursors.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}

function addGetCommand(tenants: Command, deps: TenantCommandDeps): void {
  tenants
    .command('get')
    .description('show a tenant: phase, conditions, endpoints')
    .argument('<slug>')
    .action(async (slug: string, _options: unknown, command: Command) => {
      const session = createCliSession(command, deps);
      const tenant = await session.client.getTenant(slug);
      if (session.output === 'json') session.printJson(tenant);
      else session.print(formatTenantSummary(tenant, deps.now(), session.stdoutStyle));
    });
}

function addSuspendResumeCommands(tenants: Command, deps: TenantCommandDeps): void {
  tenants
    .command('suspend')
    .description('stop serving a tenant; its data is kept')
    .argument('<slug>')
    .addOption(waitOption('until the tenant is Suspended'))
    .addOption(timeoutOption())
    .action(async (slug: string, options: WaitOptions, command: Command) => {
      const session = createCliSession(command, deps);
      const tenant = await session.client.suspendTenant(slug);
      await finishOperation(session, deps, {
        tenant,
        target: 'Suspended',
        verb: 'suspension requested',
        options,
      });
    });

  tenants
    .command('resume')
    .description('serve a suspended tenant again')
    .argument('<slug>')
    .addOption(waitOption('until the tenant is Ready'))
    .addOption(timeoutOption())
    .action(async (slug: string, options: WaitOptions, command: Command) => {
      const session = createCliSession(command, deps);
      const tenant = await session.client.resumeTenant(slug);
      await finishOperation(session, deps, {
        tenant,
        target: 'Ready',
        verb: 'resumption requested',
        options,
      });
    });
}

function addDeleteCommand(tenants: Command, deps: TenantCommandDeps): void {
  tenants
    .command('delete')
    .description("export a tenant's data, then remove everything it owns")
    .argument('<slug>')
    .addOption(waitOption('until the tenant is gone'))
    .addOption(timeoutOption())
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (slug: string, options: DeleteOptions, command: Command) => {
      const session = createCliSession(command, deps);
      if (options.yes !== true) await confirmDeletion(slug, deps);
      const tenant = await session.client.deleteTenant(slug);
      await finishOperation(session, deps, {
        tenant,
        target: 'Gone',
        verb: 'deletion requested',
        options,
      });
    });
}

async function confirmDeletion(slug: string, deps: TenantCommandDeps): Promise<void> {
  if (deps.prompt === undefined) {
    throw new CliError({
      exitCode: EXIT_CODES.usage,
      code: 'confirmation-required',
      title: 'Confirmation required',
      detail: 'stdin is not a terminal; pass --yes to delete without asking',
    });
  }
  const answer = await deps.prompt(
    `Delete tenant "${slug}" and all its data? Type the slug to confirm: `,
  );
  if (answer.trim() !== slug) {
    throw new CliError({
      exitCode: EXIT_CODES.usage,
      code: 'not-confirmed',
      title: 'Not confirmed',
      detail: `tenant "${slug}" was not deleted`,
    });
  }
}

function waitOption(what: string): Option {
  return new Option('-w, --wait', `wait ${what}, showing progress on stderr`);
}

function timeoutOption(): Option {
  return new Option('--timeout <seconds>', 'give up waiting after this long')
    .argParser(parseSeconds)
    .default(DEFAULT_WAIT_TIMEOUT_SECONDS);
}

function parseSeconds(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError('expected a positive number of seconds');
  }
  return seconds;
}

function parseCount(text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return count;
}

interface Operation {
  /** The tenant the request returned. */
  tenant: TenantView;
  target: WaitTarget;
  /** How the text output names what was accepted: `tenant acme: created`. */
  verb: string;
  options: WaitOptions;
}

/** Prints the accepted request, or waits for it to complete when `--wait` is given. */
async function finishOperation(
  session: CliSession,
  deps: TenantCommandDeps,
  operation: Operation,
): Promise<void> {
  const { tenant, verb } = operation;
  if (operation.options.wait !== true) {
    if (session.output === 'json') {
      session.printJson(tenant);
    } else {
      const phase = `phase ${tenant.status.phase}`;
      session.print([`tenant ${tenant.slug}: ${verb} (${phase}); add --wait to follow it`]);
    }
    return;
  }
  const started = deps.now();
  const outcome = await waitWithProgress(session, deps, operation);
  const elapsed = formatElapsed(deps.now() - started);
  reportOutcome(session, { operation, outcome, elapsed });
}

function waitWithProgress(
  session: CliSession,
  deps: TenantCommandDeps,
  operation: Operation,
): Promise<WaitOutcome> {
  // Machine output keeps stderr quiet unless a person is watching it.
  const showProgress = session.output === 'text' || deps.stderr.isTTY === true;
  const progress = showProgress
    ? createTenantProgress({ stream: deps.stderr, style: session.stderrStyle, now: deps.now })
    : undefined;
  return waitForTenant({
    client: session.client,
    target: operation.target,
    initial: operation.tenant,
    timeoutMs: operation.options.timeout * 1000,
    pollIntervalMs: WAIT_POLL_INTERVAL_MS,
    sleep: deps.sleep,
    now: deps.now,
    onUpdate: (tenant) => progress?.update(tenant),
    onRetry: (error) =>
      progress?.note(`platform not answering (${describeBriefly(error)}); still waiting`),
  });
}

function describeBriefly(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface OutcomeReport {
  operation: Operation;
  outcome: WaitOutcome;
  elapsed: string;
}

function reportOutcome(session: CliSession, report: OutcomeReport): void {
  const { operation, outcome, elapsed } = report;
  const { tenant } = outcome;
  // In JSON mode stdout always carries the tenant as last seen, even when the wait failed.
  if (session.output === 'json') session.printJson(tenant);

  if (outcome.kind === 'failed') throw tenantFailedError(tenant);
  if (outcome.kind === 'timed-out') throw waitTimedOutError(operation, outcome);
  if (session.output === 'json') return;
  if (outcome.kind === 'gone') {
    session.print([`tenant ${tenant.slug} deleted (${elapsed})`]);
    return;
  }
  const phase = session.stdoutStyle.green(tenant.status.phase);
  const lines = [`tenant ${tenant.slug} is ${phase} (${elapsed})`];
  if (operation.target === 'Ready') {
    lines.push('Endpoints:', ...formatEndpoints(tenant).map((line) => `  ${line}`));
  }
  session.print(lines);
}

function tenantFailedError(tenant: TenantView): CliError {
  const unready = tenant.status.conditions
    .filter((condition) => condition.status !== 'True')
    .map((condition) => `${condition.type} ${condition.reason}: ${condition.message}`);
  return new CliError({
    exitCode: EXIT_CODES.tenantFailed,
    code: 'tenant-failed',
    title: 'Tenant failed',
    detail: [`tenant ${tenant.slug} reached phase Failed`, ...unready].join('; '),
  });
}

function waitTimedOutError(
  operation: Operation,
  outcome: Extract<WaitOutcome, { kind: 'timed-out' }>,
): CliError {
  const waitingFor = operation.target === 'Gone' ? 'to be gone' : `for ${operation.target}`;
  const { slug, status } = outcome.tenant;
  const base = `tenant ${slug} is still ${status.phase} after waiting ${operation.options.timeout}s ${waitingFor}`;
  // When the last polls could not reach the platform, that is the real news.
  if (outcome.lastError !== undefined && isTransient(outcome.lastError)) {
    return new CliError({
      exitCode: EXIT_CODES.unavailable,
      code: 'platform-unreachable',
      title: 'Platform unreachable',
      detail: `${base}; last poll: ${describeBriefly(outcome.lastError)}`,
    });
  }
  return new CliError({
    exitCode: EXIT_CODES.waitTimeout,
    code: 'wait-timeout',
    title: 'Wait timed out',
    detail: `${base}; it carries on in the background`,
  });
}
