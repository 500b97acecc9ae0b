/** ANSI styling that collapses to plain text when colour is off (`--no-color`, NO_COLOR, not a TTY). */
export interface TerminalStyle {
  readonly enabled: boolean;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const wrap =
  (enabled: boolean, open: number, close: number) =>
  (text: string): string =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;

/** Creates the styling helpers; with `enabled: false` every helper returns its input. */
export function createTerminalStyle(enabled: boolean): TerminalStyle {
  return {
    enabled,
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    red: wrap(enabled, 31, 39),
    dim: wrap(enabled, 2, 22),
    bold: wrap(enabled, 1, 22),
  };
}

/** Removes ANSI escape sequences, to measure the visible width of styled text. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching ESC is the point
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

/** Whether to colour a stream: only a terminal, and never when the user opted out. */
export function shouldUseColor(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
  colorFlag: boolean,
): boolean {
  if (!colorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}
