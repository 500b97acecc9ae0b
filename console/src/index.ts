/** The console is served by the control plane under this path. */
export const CONSOLE_BASE_PATH = '/console';
