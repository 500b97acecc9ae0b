import type { TenantDataKeys } from '@citadel/operators';
import { TenantDataKeysError } from '@citadel/operators';
import { SsoError } from './sso-error.ts';
import type { SsoConnectionRecord } from './sso-repository.ts';

/** The tenant data-key operations the SSO module uses. */
export type SsoSecretCipher = Pick<TenantDataKeys, 'encryptWithActiveKey' | 'decryptWithTenantKey'>;

/** Binds a ciphertext to its connection: one row's secret cannot be pasted into another. */
function associatedData(tenantId: string, connectionId: string): Buffer {
  return Buffer.from(`citadel:sso-client-secret:${tenantId}:${connectionId}`, 'utf8');
}

/** Encrypts a client secret with the tenant's active data key. */
export async function encryptClientSecret(
  cipher: SsoSecretCipher,
  ids: { tenantId: string; connectionId: string },
  secret: string,
): Promise<{ ciphertext: Buffer; keyVersion: number }> {
  try {
    return await cipher.encryptWithActiveKey(
      ids.tenantId,
      Buffer.from(secret, 'utf8'),
      associatedData(ids.tenantId, ids.connectionId),
    );
  } catch (error) {
    if (error instanceof TenantDataKeysError && error.code === 'no-active-key') {
      throw new SsoError(
        'tenant-not-ready',
        'The tenant has no data key yet; retry once it is Ready.',
      );
    }
    throw error;
  }
}

/** Decrypts a connection's client secret. */
export async function decryptClientSecret(
  cipher: SsoSecretCipher,
  connection: SsoConnectionRecord,
): Promise<string> {
  const plaintext = await cipher.decryptWithTenantKey(
    connection.tenantId,
    connection.clientSecretCiphertext,
    connection.keyVersion,
    associatedData(connection.tenantId, connection.id),
  );
  return plaintext.toString('utf8');
}
