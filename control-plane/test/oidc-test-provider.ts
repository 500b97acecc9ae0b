/**
 * The loopback OpenID provider now lives in test-utils, where the OIDC login benchmark uses
 * it too; this module keeps the tests' existing import path working.
 */
export * from '@citadel/test-utils/oidc-test-provider';
