export { LicenseError, type LicenseErrorCode } from './license-error.ts';
export {
  assertLicensePolicy,
  DEFAULT_LICENSE_POLICY,
  evaluateLicensePolicy,
  type LicenseDecision,
  type LicensePolicy,
  type LicenseRules,
  PERMISSIVE_LICENSES,
} from './license-policy.ts';
export {
  canonicalLicenseId,
  type LicenseConjunction,
  type LicenseNode,
  type LicenseParseResult,
  type LicenseTerm,
  parseLicense,
  type ParsedLicense,
  tryParseLicense,
} from './parse-license.ts';
