import { platformProgram } from './platform-program.ts';

/**
 * The entry point Pulumi runs (`main` in Pulumi.yaml). Pulumi calls an entry module's default
 * export and publishes what it returns as the stack's outputs; nothing else imports this file.
 */
// eslint-disable-next-line no-restricted-syntax -- Pulumi runs the entry module's default export.
export default platformProgram;
