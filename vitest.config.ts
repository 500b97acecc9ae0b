import { defineConfig } from 'vitest/config';

/**
 * Unit tests sit beside the code's package in `test/`; integration tests (real
 * PostgreSQL, real processes) are named `*.integration.test.ts` and get longer timeouts.
 * Files run two at a time: the machines that run CI have two cores.
 */
export default defineConfig({
  test: {
    include: ['**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.citadel/**'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
