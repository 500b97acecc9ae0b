import { defineConfig } from 'vitest/config';

/**
 * Unit tests sit beside the code's package in `test/`; integration tests (real
 * PostgreSQL, real processes) are named `*.integration.test.ts` and get longer timeouts.
 * Files run two at a time: the machines that run CI have two cores.
 * Tests against the real test peers (kube-apiserver, Pulumi…) are named `*.peer.test.ts`
 * and run only under `npm run test:peers`, which sets CITADEL_PEER_TESTS=1 (ADR 14).
 */
const peerTests = process.env.CITADEL_PEER_TESTS === '1';

export default defineConfig({
  test: {
    include: peerTests ? ['**/test/**/*.peer.test.ts'] : ['**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.citadel/**', ...(peerTests ? [] : ['**/*.peer.test.ts'])],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
