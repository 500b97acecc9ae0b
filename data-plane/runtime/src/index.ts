export {
  createDataPlaneHost,
  type DataPlaneHost,
  type DataPlaneHostOptions,
  type HostHealth,
} from './data-plane-host.ts';
export type {
  DataPlaneGrpcContext,
  DataPlaneGrpcService,
  DataPlaneRequestContext,
  DataPlaneService,
  DataPlaneServiceContext,
  DataPlaneServiceFactory,
} from './data-plane-service.ts';
export {
  DATA_PLANE_TOKEN_ALGORITHM,
  GATEWAY_ASSERTION_TTL_SECONDS,
  GATEWAY_ASSERTION_TYPE,
  OPERATOR_SUBJECT,
  USER_ACCESS_TOKEN_TYPE,
  principalFromClaims,
  serviceAudience,
  type AssertedPrincipalType,
  type DataPlaneTokenClaims,
  type RequestPrincipal,
} from './data-plane-token.ts';
export {
  bearerTokenOf,
  createRefusingAuthenticator,
  createTokenAuthenticator,
  type AuthenticatedRequest,
  type AuthenticationFailureReason,
  type AuthenticationResult,
  type RequestAuthenticator,
  type TokenAuthenticatorOptions,
} from './request-authentication.ts';
export {
  readHostEnvironment,
  type HostEnvironment,
  type HostEnvironmentResult,
} from './host-environment.ts';
export { createJsonLineLogger, type HostLogger, type LogSink } from './host-logger.ts';
export {
  readTenantDataCipher,
  TENANT_DATA_KEYS_VARIABLE,
  TenantDataCipherError,
  type TenantDataCipher,
  type TenantDataCipherErrorCode,
} from './tenant-data-cipher.ts';
export {
  HOST_PROBLEM_TYPE_BASE,
  sendJson,
  sendProblem,
  type HostProblem,
} from './problem-response.ts';
// Authorisation is for services and the control plane; the host process (host-main.ts)
// imports its modules directly and never loads cedar-wasm unless a service does.
export {
  CedarPolicyError,
  createCedarAuthorizer,
  digestAuthorizationRequest,
  splitCedarPolicies,
  validateCedarPolicies,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type CedarAuthorizer,
  type CedarAuthorizerOptions,
  type CedarEntity,
  type CedarEntityUid,
  type CedarValueJson,
  type PolicyValidationError,
  type PolicyValidationErrorCode,
} from './authorization/cedar-authorizer.ts';
export {
  CITADEL_ACTIONS,
  CITADEL_CEDAR_SCHEMA,
  citadelAction,
  citadelEntity,
  type CitadelAction,
  type CitadelEntityType,
} from './authorization/citadel-schema.ts';
export {
  createDataPlaneAuthorizer,
  principalEntities,
  type DataPlaneAuthorizationRequest,
  type DataPlaneAuthorizer,
  type DataPlaneAuthorizerOptions,
} from './authorization/data-plane-authorizer.ts';
export {
  PLATFORM_POLICY_PREFIX,
  platformPoliciesFor,
  type PolicyPlan,
} from './authorization/plan-policies.ts';
