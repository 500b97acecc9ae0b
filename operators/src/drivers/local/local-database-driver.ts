import pg from 'pg';
const { escapeIdentifier, escapeLiteral } = pg;
import type { ObservedDatabase } from '../../core/observed-state.ts';
import type { DatabaseAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver, TenantRef } from '../../core/tenant-drivers.ts';
import type { TenantSecretStore } from '../../core/tenant-secret-store.ts';
import { connectAdminToDatabase } from './admin-database-client.ts';
import type { DriverLogger } from './driver-logger.ts';
import { localTenantNames, type LocalTenantNames } from './local-tenant-names.ts';
import { createScramVerifier, scramVerifierMatches } from './scram-verifier.ts';
import {
  generateDatabasePassword,
  isMissingKeyVersion,
  type TenantDatabaseCredentials,
} from './tenant-database-credentials.ts';

export interface LocalDatabaseDriverDeps {
  /** Superuser, or CREATEROLE + CREATEDB, on the platform's PostgreSQL. */
  adminPool: pg.Pool;
  instanceId: string;
  secrets: TenantSecretStore;
  credentials: TenantDatabaseCredentials;
  logger: DriverLogger;
}

/** SQLSTATEs that mean "someone created it first". */
const DUPLICATE_DATABASE = '42P04';
const DUPLICATE_OBJECT = '42710';
const UNIQUE_VIOLATION = '23505';

interface RoleRow {
  rolcanlogin: boolean;
  rolconnlimit: number;
  /** Only readable by a superuser (from pg_authid). */
  rolpassword: string | null;
}

/**
 * A database and a login role per tenant on the platform's PostgreSQL. The role owns the
 * database, CONNECT is revoked from PUBLIC (so no other tenant's role gets in), and the
 * role's password is stored encrypted with the tenant's data key before the role is given
 * it, so a crash never leaves a role whose password nobody knows.
 */
export function createLocalDatabaseDriver(
  deps: LocalDatabaseDriverDeps,
): ComponentDriver<ObservedDatabase, DatabaseAction> {
  const { adminPool, instanceId, secrets, credentials, logger } = deps;
  let serverFacts: Promise<{ superuser: boolean; version: number }> | undefined;
  /** Whether the admin is a superuser, and the server's version (`server_version_num`). */
  const facts = () => {
    serverFacts ??= adminPool
      .query<{ superuser: boolean; version: number }>(
        `SELECT rolsuper AS superuser, current_setting('server_version_num')::int AS version
           FROM pg_roles WHERE rolname = current_user`,
      )
      .then((result) => result.rows[0] ?? { superuser: false, version: 0 })
      .catch((error: unknown) => {
        serverFacts = undefined;
        throw error;
      });
    return serverFacts;
  };
  const isSuperuser = async () => (await facts()).superuser;

  const readRole = async (client: pg.Pool | pg.PoolClient, roleName: string) => {
    const { rows } = (await isSuperuser())
      ? await client.query<RoleRow>(
          'SELECT rolcanlogin, rolconnlimit, rolpassword FROM pg_authid WHERE rolname = $1',
          [roleName],
        )
      : await client.query<RoleRow>(
          'SELECT rolcanlogin, rolconnlimit, NULL AS rolpassword FROM pg_roles WHERE rolname = $1',
          [roleName],
        );
    return rows[0];
  };

  /** The stored password, or a new one stored first (so the role never gets an unknown one). */
  const storedOrNewPassword = async (tenant: TenantRef, names: LocalTenantNames) => {
    let login;
    try {
      login = await credentials.read(tenant.uid);
    } catch (error) {
      if (!isMissingKeyVersion(error)) throw error;
      logger.warn(
        { tenant: tenant.slug, error: (error as Error).message },
        'stored database password is unreadable (its data key is gone); issuing a new one',
      );
    }
    if (login?.roleName === names.roleName && login.databaseName === names.databaseName) {
      return login.password;
    }
    const password = login?.password ?? generateDatabasePassword();
    await credentials.store(tenant.uid, { ...names, password });
    return password;
  };

  const ensureRole = async (tenant: TenantRef, names: LocalTenantNames) => {
    const connectionLimit = tenant.spec.resources.database.maxConnections;
    if (!Number.isInteger(connectionLimit) || connectionLimit < 1) {
      throw new Error(`maxConnections must be a positive integer, got ${connectionLimit}`);
    }
    // Learnt before taking a client: asking the pool while holding one of its clients
    // could deadlock once every client is held by a concurrent ensure-role.
    await facts();
    const client = await adminPool.connect();
    try {
      await client.query('BEGIN');
      // Serialises concurrent ensure-role runs for one tenant (two workers, two control
      // planes): otherwise each could store its own new password and set the other's.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `citadel:role:${names.roleName}`,
      ]);
      const password = await storedOrNewPassword(tenant, names);
      const role = await readRole(client, names.roleName);
      const quotedRole = escapeIdentifier(names.roleName);
      if (!role) {
        const verifier = await createScramVerifier(password);
        await client.query(
          `CREATE ROLE ${quotedRole} WITH ${tenant.spec.suspended ? 'NOLOGIN' : 'LOGIN'} NOSUPERUSER ` +
            `NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT ` +
            `CONNECTION LIMIT ${connectionLimit} PASSWORD ${escapeLiteral(verifier)}`,
        );
      } else {
        const changes: string[] = [];
        if (role.rolconnlimit !== connectionLimit) {
          changes.push(`CONNECTION LIMIT ${connectionLimit}`);
        }
        // Without superuser the stored hash is unreadable: set the password unconditionally.
        if (!(await scramVerifierMatches(password, role.rolpassword ?? undefined))) {
          changes.push(`PASSWORD ${escapeLiteral(await createScramVerifier(password))}`);
        }
        if (changes.length > 0) {
          await client.query(`ALTER ROLE ${quotedRole} WITH ${changes.join(' ')}`);
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  const ensureDatabase = async (names: LocalTenantNames) => {
    const quotedRole = escapeIdentifier(names.roleName);
    const quotedDatabase = escapeIdentifier(names.databaseName);
    const { rows } = await adminPool.query<{ owner: string }>(
      'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
      [names.databaseName],
    );
    if (rows[0]?.owner === names.roleName) return;
    if (!(await isSuperuser())) {
      // A CREATEDB admin may only create a database for a role whose privileges it has.
      await adminPool.query(`GRANT ${quotedRole} TO CURRENT_USER`);
    }
    if (rows[0]) {
      await adminPool.query(`ALTER DATABASE ${quotedDatabase} OWNER TO ${quotedRole}`);
      return;
    }
    try {
      // CREATE DATABASE cannot run inside a transaction: a plain query on the pool.
      // template0 is pristine (nobody can connect to alter it), so the new database's
      // default privileges are the server's own; and unlike template1 it never fails with
      // "source database is being accessed by other users".
      await adminPool.query(
        `CREATE DATABASE ${quotedDatabase} OWNER ${quotedRole} TEMPLATE template0`,
      );
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  };

  const revokePublicConnect = async (names: LocalTenantNames) => {
    if ((await observeRow(adminPool, names)).publicConnectRevoked) return;
    // Before PostgreSQL 15, PUBLIC may CREATE in schema public of every new database. From
    // 15 on it may not, and the database comes from the pristine template0, so the
    // connection (the costliest step of provisioning, a new database's first) is skipped.
    // The schema is done first: observe checks the database, so a crash repeats both.
    if ((await facts()).version < 150_000) {
      const client = await connectAdminToDatabase(adminPool, names.databaseName);
      try {
        await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
      } finally {
        await client.end();
      }
    }
    await adminPool.query(
      `REVOKE ALL ON DATABASE ${escapeIdentifier(names.databaseName)} FROM PUBLIC`,
    );
  };

  const terminateSessions = async (names: LocalTenantNames) => {
    await adminPool.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()',
      [names.roleName],
    );
  };

  const setLogin = async (names: LocalTenantNames, allowed: boolean) => {
    const role = await readRole(adminPool, names.roleName);
    if (!role) throw new Error(`role ${names.roleName} does not exist; ensure-role first`);
    if (role.rolcanlogin !== allowed) {
      await adminPool.query(
        `ALTER ROLE ${escapeIdentifier(names.roleName)} WITH ${allowed ? 'LOGIN' : 'NOLOGIN'}`,
      );
    }
  };

  const remove = async (tenant: TenantRef, names: LocalTenantNames) => {
    await adminPool.query(
      `DROP DATABASE IF EXISTS ${escapeIdentifier(names.databaseName)} WITH (FORCE)`,
    );
    const role = await readRole(adminPool, names.roleName);
    if (role) {
      const quotedRole = escapeIdentifier(names.roleName);
      await terminateSessions(names);
      // Objects or grants the role holds in the platform database would block DROP ROLE.
      await adminPool.query(`DROP OWNED BY ${quotedRole}`);
      await adminPool.query(`DROP ROLE IF EXISTS ${quotedRole}`);
    }
    await secrets.deleteDatabaseCredentials(tenant.uid);
  };

  return {
    async observe(tenant) {
      const names = localTenantNames(instanceId, tenant.slug);
      const [row, stored] = await Promise.all([
        observeRow(adminPool, names),
        secrets.getDatabaseCredentials(tenant.uid),
      ]);
      return { ...row, credentialsStored: stored !== undefined };
    },
    async apply(tenant, action) {
      const names = localTenantNames(instanceId, tenant.slug);
      switch (action.type) {
        case 'ensure-role':
          return ensureRole(tenant, names);
        case 'ensure-database':
          return ensureDatabase(names);
        case 'revoke-public-connect':
          return revokePublicConnect(names);
        case 'deny-login':
          await setLogin(names, false);
          // NOLOGIN only stops new sessions: end the ones already open.
          return terminateSessions(names);
        case 'allow-login':
          return setLogin(names, true);
        case 'remove':
          return remove(tenant, names);
      }
    },
  };
}

async function observeRow(
  adminPool: pg.Pool,
  names: LocalTenantNames,
): Promise<Omit<ObservedDatabase, 'credentialsStored'>> {
  const { rows } = await adminPool.query<{
    role_exists: boolean;
    login_allowed: boolean;
    database_exists: boolean;
    public_connect_revoked: boolean;
  }>(
    `SELECT r.oid IS NOT NULL AS role_exists,
            coalesce(r.rolcanlogin, false) AS login_allowed,
            d.oid IS NOT NULL AS database_exists,
            CASE WHEN d.oid IS NULL THEN false
                 ELSE NOT has_database_privilege('public', d.oid, 'CONNECT') END AS public_connect_revoked
       FROM (VALUES (1)) AS one (x)
       LEFT JOIN pg_roles r ON r.rolname = $1
       LEFT JOIN pg_database d ON d.datname = $2`,
    [names.roleName, names.databaseName],
  );
  const row = rows[0];
  return {
    roleExists: row?.role_exists ?? false,
    loginAllowed: row?.login_allowed ?? false,
    databaseExists: row?.database_exists ?? false,
    publicConnectRevoked: row?.public_connect_revoked ?? false,
  };
}

function isAlreadyExists(error: unknown): boolean {
  const code = error instanceof pg.DatabaseError ? error.code : undefined;
  return code === DUPLICATE_DATABASE || code === DUPLICATE_OBJECT || code === UNIQUE_VIOLATION;
}
