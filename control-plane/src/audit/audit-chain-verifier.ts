/**
 * The chain verifier lives in `@citadel/contracts/audit`, so that anyone holding an export
 * (the CLI, offline) runs the very code the platform runs.
 */
export {
  verifyAuditChain,
  type AuditChainInput,
  type AuditProblem,
  type AuditProblemKind,
  type AuditVerificationReport,
} from '@citadel/contracts/audit';
