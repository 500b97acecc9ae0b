import type { TenantView } from './platform-client.ts';
import {
  conditionSymbol,
  countReadyConditions,
  formatConditionLines,
  formatPhase,
} from './tenant-format.ts';
import { stripAnsi, type TerminalStyle } from './terminal-style.ts';

/** Where progress goes: stderr, so that stdout stays the command's result. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Live view of a tenant while `--wait` polls it. */
export interface TenantProgress {
  /** Shows the tenant as last observed. */
  update(tenant: TenantView): void;
  /** Shows a passing remark, e.g. that a poll failed and will be retried. */
  note(message: string): void;
}

export interface TenantProgressOptions {
  stream: ProgressStream;
  style: TerminalStyle;
  /** Milliseconds clock; elapsed time is measured from the progress's creation. */
  now: () => number;
}

/**
 * Creates the progress view: redrawn in place on a terminal, appended lines (only what
 * changed) otherwise, so that logs of a CI job stay readable.
 */
export function createTenantProgress(options: TenantProgressOptions): TenantProgress {
  return options.stream.isTTY === true
    ? createRedrawingProgress(options)
    : createAppendingProgress(options);
}

/** `1.2s`, or `2m05s` past a minute. */
export function formatElapsed(milliseconds: number): string {
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)}s`;
  const seconds = Math.floor(milliseconds / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

function formatHeader(tenant: TenantView, style: TerminalStyle): string {
  const { ready, total } = countReadyConditions(tenant);
  const phase = formatPhase(tenant.status.phase, style);
  return `${style.bold(tenant.slug)}: ${phase} (${ready}/${total} conditions True)`;
}

function createRedrawingProgress(options: TenantProgressOptions): TenantProgress {
  const { stream, style, now } = options;
  const startedAt = now();
  let linesOnScreen = 0;
  let lastTenant: TenantView | undefined;
  let lastNote: string | undefined;

  const fit = (line: string): string => {
    const width = (stream.columns ?? 0) - 1;
    // A wrapped line would throw the cursor arithmetic off: cut it instead.
    return width > 0 && stripAnsi(line).length > width ? stripAnsi(line).slice(0, width) : line;
  };
  const draw = (): void => {
    const elapsed = style.dim(formatElapsed(now() - startedAt));
    const lines =
      lastTenant === undefined
        ? []
        : [
            `${formatHeader(lastTenant, style)} ${elapsed}`,
            ...formatConditionLines(lastTenant, style).map((line) => `  ${line}`),
          ];
    if (lastNote !== undefined) lines.push(style.yellow(lastNote));
    // Move to the start of the previous frame and clear it, then draw the new one.
    const rewind = linesOnScreen > 0 ? `\u001b[${linesOnScreen}F\u001b[0J` : '';
    stream.write(`${rewind}${lines.map(fit).join('\n')}\n`);
    linesOnScreen = lines.length;
  };

  return {
    update(tenant) {
      lastTenant = tenant;
      lastNote = undefined;
      draw();
    },
    note(message) {
      lastNote = message;
      draw();
    },
  };
}

function createAppendingProgress(options: TenantProgressOptions): TenantProgress {
  const { stream, style, now } = options;
  const startedAt = now();
  let lastHeader: string | undefined;
  let lastNote: string | undefined;
  const lastConditionKeys = new Map<string, string>();
  const write = (line: string): void => {
    stream.write(`${style.dim(`[${formatElapsed(now() - startedAt)}]`)} ${line}\n`);
  };

  return {
    update(tenant) {
      lastNote = undefined;
      const header = formatHeader(tenant, style);
      if (header !== lastHeader) write(header);
      lastHeader = header;
      const lines = formatConditionLines(tenant, style);
      tenant.status.conditions.forEach((condition, index) => {
        const key = [
          stripAnsi(conditionSymbol(condition, tenant, style)),
          condition.status,
          condition.reason,
          condition.message,
        ].join('\u0000');
        if (lastConditionKeys.get(condition.type) !== key) write(`  ${lines[index] ?? ''}`);
        lastConditionKeys.set(condition.type, key);
      });
    },
    note(message) {
      if (message !== lastNote) write(style.yellow(message));
      lastNote = message;
    },
  };
}
