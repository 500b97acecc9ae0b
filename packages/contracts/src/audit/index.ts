export * from './audit-chain.ts';
export * from './audit-chain-verifier.ts';
export * from './audit-export-verifier.ts';
