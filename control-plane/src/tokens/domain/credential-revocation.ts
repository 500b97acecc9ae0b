/** What the gateway reads about a token's user on every request. */
export interface CredentialState {
  active: boolean;
  /** Tokens issued before this instant are refused; set on deactivation and deletion. */
  credentialsRevokedAt: Date | undefined;
}

/**
 * Whether a token issued at `issuedAtSeconds` (its `iat`) predates the revocation. `iat`
 * has one-second resolution, so a token from the very second of the revocation counts as
 * before it: refusing one token too many is safe, letting one through is not. A user
 * reactivated within that second logs in again a second later.
 */
export function isRevoked(issuedAtSeconds: number, state: CredentialState): boolean {
  const revokedAt = state.credentialsRevokedAt;
  if (revokedAt === undefined) return false;
  return issuedAtSeconds <= Math.floor(revokedAt.getTime() / 1000);
}
