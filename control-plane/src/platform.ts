import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { findPlan, type TenantResource } from '@citadel/contracts';
import { CONSOLE_BASE_PATH, CONSOLE_DIST_DIR } from '@citadel/console';
import {
  createLocalKeyRing,
  createLocalTenantDrivers,
  createTenantController,
  createTenantReconciler,
  type ObservedTenant,
  type TenantController,
} from '@citadel/operators';
import {
  controlPlaneDatabaseName,
  createControlPlaneMigrations,
  embeddedPostgresDir,
  ensureDatabase,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '@citadel/postgres';
import type { PlatformConfig } from './config/platform-config.ts';
import type { Logger } from './logger.ts';
import { createPrismaApiKeyRepository } from './adapters/prisma-api-key-repository.ts';
import { createPrismaClient, type PrismaClient } from './adapters/prisma-client.ts';
import { createPrismaTenantRepository } from './adapters/prisma-tenant-repository.ts';
import { createPrismaTenantSecretStore } from './adapters/prisma-tenant-secret-store.ts';
import {
  loadInstanceId,
  resolveAdminToken,
  syncPlanCatalog,
} from './adapters/platform-settings.ts';
import { AUDIT_ACTIONS } from './audit/audit-entry.ts';
import { createAuditModule } from './audit/audit-module.ts';
import { createAccountsModule } from './accounts/accounts-module.ts';
import { createPolicyModule } from './policies/policy-module.ts';
import { createGraphqlModule } from './graphql/graphql-module.ts';
import { invitationMail } from './organizations/invitation-mail.ts';
import { createOrganizationService } from './organizations/organization.service.ts';
import {
  auditActorOfCedarPrincipal,
  createAccessControl,
  findTenantScope,
} from './access/access-control.ts';
import { apiAccess } from './access/api-access.ts';
import { createScimModule } from './scim/scim-module.ts';
import { createSsoModule } from './sso/sso-module.ts';
import { createTokensModule, dataPlaneHostTokenEnvironment } from './tokens/tokens-module.ts';
import { createApiKeyService } from './domain/api-key.service.ts';
import { createTenantService } from './domain/tenant.service.ts';
import { createConsoleRouter } from './http/console-routes.ts';
import { createOpenApiDocument } from './http/openapi-document.ts';
import { createPlatformApp } from './http/platform-app.ts';
import { createRateLimits, rateLimitsPerMinute } from './http/rate-limits.ts';
import type { ReadinessCheck } from './http/health-routes.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const HOST_ENTRY = path.resolve(here, '../../data-plane/runtime/src/host-main.ts');
export const PLATFORM_VERSION = '0.1.0';

export interface RunningPlatform {
  /** Where the API listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Set when this start generated the operator token (first start without one configured). */
  generatedAdminToken: string | undefined;
  instanceId: string;
  controller: TenantController;
  close(): Promise<void>;
}

async function openDatabase(config: PlatformConfig, logger: Logger) {
  if (config.databaseUrl !== undefined) {
    return { connectionString: config.databaseUrl, embedded: undefined };
  }
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres({
    dataDir: embeddedPostgresDir(config.dataDir),
    logger: logger.child({ component: 'embedded-postgres' }),
  });
  logger.info({ port: embedded.port, timings: embedded.timings }, 'embedded PostgreSQL started');
  try {
    return {
      connectionString: await ensureDatabase(embedded.connectionString, controlPlaneDatabaseName),
      embedded,
    };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

function publicBaseUrl(config: PlatformConfig, port: number): string {
  return (config.publicUrl ?? `http://localhost:${port}`).replace(/\/$/, '');
}

function tenantEndpoints(baseUrl: string) {
  return (tenant: TenantResource, _observed: ObservedTenant): Record<string, string> => {
    const gateway = `${baseUrl}/t/${tenant.metadata.name}`;
    const endpoints: Record<string, string> = { gateway };
    for (const service of tenant.spec.services) endpoints[service] = `${gateway}/${service}/v1`;
    return endpoints;
  };
}

function listen(
  app: ReturnType<typeof createPlatformApp>,
  config: PlatformConfig,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(config.port, config.host, () => resolve(server));
    server.once('error', reject);
  });
}

function readinessChecks(prisma: PrismaClient, redis: Redis | undefined): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [
    {
      name: 'postgres',
      check: async () => {
        await prisma.$queryRaw`SELECT 1`;
      },
    },
  ];
  if (redis) {
    checks.push({
      name: 'redis',
      check: async () => {
        await redis.ping();
      },
    });
  }
  return checks;
}

/** Runs `cleanups` newest first, never letting one failure skip the rest. */
async function runCleanups(cleanups: Array<() => Promise<void>>, logger: Logger): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    // `then` also catches a step that throws before returning its promise.
    await Promise.resolve()
      .then(cleanup)
      .catch((error: unknown) => logger.warn({ err: error }, 'shutdown step failed'));
  }
}

/**
 * Starts the whole platform on one machine: PostgreSQL (embedded unless DATABASE_URL),
 * migrations, the reconciler with local drivers, and the HTTP API and gateway.
 */
export async function startPlatform(
  config: PlatformConfig,
  logger: Logger,
): Promise<RunningPlatform> {
  // 0711: other users may pass through (the embedded server runs as `postgres` when we are
  // root) but not list; everything secret below has its own 0700/0600 modes.
  await mkdir(config.dataDir, { recursive: true, mode: 0o711 });
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const database = await openDatabase(config, logger);
    if (database.embedded) {
      const embedded = database.embedded;
      cleanups.push(() => embedded.stop());
    }
    await createControlPlaneMigrations(
      database.connectionString,
      logger.child({ component: 'migrations' }),
    ).deploy();

    const prisma = createPrismaClient(database.connectionString);
    cleanups.push(() => prisma.$disconnect());
    const adminPool = new pg.Pool({ connectionString: database.connectionString, max: 8 });
    // An idle connection the server ends (its shutdown, a restart) is logged, not fatal: a
    // pool error nobody listens to would end the process.
    adminPool.on('error', (error) => {
      logger.warn({ error: error.message }, 'idle database connection lost');
    });
    cleanups.push(() => adminPool.end());
    const redis = await connectRedis(config, logger);
    if (redis) {
      cleanups.push(() => {
        redis.disconnect();
        return Promise.resolve();
      });
    }

    await syncPlanCatalog(prisma);
    const instanceId = await loadInstanceId(prisma);
    await closeToPublic(adminPool, logger);
    const adminToken = await resolveAdminToken(prisma, config.adminToken);

    const repository = createPrismaTenantRepository(prisma);
    const keyRing = await createLocalKeyRing({ dataDir: config.dataDir });
    const audit = await createAuditModule({
      prisma,
      dataDir: config.dataDir,
      logger,
      getTenant: (slug) => repository.get(slug),
    });
    const adminUrl = new URL(database.connectionString);
    // Hosts verify requests against this platform's JWKS, whose address is known once it
    // listens: filled in then, before the controller starts any host (read at each start).
    const hostEnvironment: Record<string, string> = {};
    const local = createLocalTenantDrivers({
      adminPool,
      adminConnection: { host: adminUrl.hostname, port: Number(adminUrl.port || 5432) },
      instanceId,
      dataDir: config.dataDir,
      keyRing,
      secrets: createPrismaTenantSecretStore(prisma),
      hostEntry: HOST_ENTRY,
      hostEnvironment,
      logger: logger.child({ component: 'drivers' }),
      // Deleting a tenant exports its record and audit log (kept by the control plane) first.
      exportSources: {
        describeTenant: async (ref) => {
          const tenant = await repository.get(ref.slug);
          if (tenant?.metadata.uid !== ref.uid) throw new Error(`tenant ${ref.slug} is not stored`);
          return { tenant, plan: findPlan(tenant.spec.plan) };
        },
        exportAuditLog: (ref, directory) => audit.exportTenantLog(ref.uid, directory),
      },
    });
    cleanups.push(() => local.services.stopAll());

    // The controller needs the listening port for endpoints; requests that arrive before
    // it exists are picked up by its first full listing.
    // eslint-disable-next-line prefer-const -- read by requestReconcile before it is assigned (TDZ)
    let controller: TenantController | undefined;
    const tenants = createTenantService({
      repository,
      requestReconcile: (slug) => controller?.enqueue(slug),
      defaultRegion: 'local',
    });
    const apiKeys = createApiKeyService({
      repository: createPrismaApiKeyRepository(prisma),
      getTenant: (slug) => repository.get(slug),
    });
    // Login and token endpoints take `rateLimits.limitLogin(…)` from here.
    const rateLimits = createRateLimits({
      redis,
      logger,
      limits: rateLimitsPerMinute(config.rateLimits),
      // Replicas of this platform (one database, one instance id) share their counters.
      keyPrefix: instanceId,
    });
    const sso = createSsoModule({
      prisma,
      logger,
      getTenant: (slug) => repository.get(slug),
      dataKeys: local.dataKeys,
      audit: audit.recorder,
      publicUrl: config.publicUrl,
      limitLogin: (options) => rateLimits.limitLogin(options),
    });
    // Tokens name the platform as issuer; without a public URL that needs the bound port.
    const listening = { port: config.port };
    const dataPlaneTokens = await createTokensModule({
      prisma,
      dataDir: config.dataDir,
      issuer: () => publicBaseUrl(config, listening.port),
      logins: sso.logins,
      getTenant: (slug) => repository.get(slug),
      audit: audit.recorder,
      limitLogin: (options) => rateLimits.limitLogin(options),
    });
    // Console accounts: sign-up, sign-in, and the sessions other modules identify callers by.
    const accounts = createAccountsModule({
      prisma,
      redis,
      instanceId,
      logger,
      dataDir: config.dataDir,
      settings: config.accounts,
      publicUrl: config.publicUrl,
      linkBaseUrl: () => publicBaseUrl(config, listening.port),
      tenants,
      audit: audit.recorder,
      limitLogin: (options) => rateLimits.limitLogin(options),
      // Sign-ins land in the logs of the tenants the account can reach (organisations below).
      onSignIn: (attempt) =>
        organizations.auditAccountEvent(attempt.accountId, {
          actor: { type: 'account', id: attempt.accountId, ip: attempt.ip },
          action:
            attempt.outcome === 'success'
              ? AUDIT_ACTIONS.accountSignInSucceeded
              : AUDIT_ACTIONS.accountSignInFailed,
          target: { type: 'account', id: attempt.accountId },
          outcome: attempt.outcome,
          details: attempt.reason === undefined ? {} : { reason: attempt.reason },
        }),
    });
    cleanups.push(() => accounts.close());
    const policyModule = createPolicyModule({
      prisma,
      logger,
      audit: audit.recorder,
      getTenant: (slug) => repository.get(slug),
      onDecision: (decision) => {
        // Enforced denials go to the tenant's audit log; what-ifs from the policy API do not.
        if (decision.whatIf || decision.decision === 'allow') return;
        audit.recorder.recordInBackground(decision.tenantId, {
          actor: auditActorOfCedarPrincipal(decision.principal),
          action: AUDIT_ACTIONS.authorizationDenied,
          target: { type: 'authorization', id: decision.decisionId },
          outcome: 'denied',
          details: {
            action: JSON.stringify(decision.action),
            resource: JSON.stringify(decision.resource),
            determiningPolicies: decision.determiningPolicies,
            inputDigest: decision.inputDigest,
          },
        });
      },
    });
    const accessControl = createAccessControl({
      prisma,
      policies: policyModule.policies,
      logger: logger.child({ component: 'access' }),
    });
    // Organisations, members and invitations, and the console's GraphQL API over them.
    const organizations = createOrganizationService({
      prisma,
      access: accessControl,
      tenants,
      audit: audit.recorder,
      sendInvitation: async (invitation) => {
        await accounts.mailer.send(
          invitationMail(invitation, publicBaseUrl(config, listening.port)),
        );
      },
    });
    const graphqlModule = createGraphqlModule({
      logger,
      adminTokenDigest: adminToken.digest,
      sessions: accounts.sessions,
      organizations,
      tenants,
      apiKeys,
      audit: audit.recorder,
    });
    const app = createPlatformApp({
      logger,
      adminTokenDigest: adminToken.digest,
      tenants,
      apiKeys,
      audit: audit.recorder,
      readinessChecks: readinessChecks(prisma, redis),
      gateway: {
        getTenant: (slug) => repository.get(slug),
        resolveUpstream: (slug) => local.services.resolveEndpoint(slug),
        audit: audit.recorder,
        tokens: dataPlaneTokens.tokens,
      },
      openApiDocument: createOpenApiDocument(PLATFORM_VERSION),
      apiAccess: apiAccess({
        adminTokenDigest: adminToken.digest,
        sessions: accounts.sessions,
        access: accessControl,
        findTenant: (slug) => findTenantScope(prisma, slug),
      }),
      rateLimits,
      // Each module adds its routers here: modules: [...createXModule(deps).routes]
      modules: [
        ...audit.routes,
        ...policyModule.routes,
        ...createScimModule({
          prisma,
          logger,
          getTenant: (slug) => repository.get(slug),
          audit: audit.recorder,
        }).routes,
        ...sso.routes,
        ...dataPlaneTokens.routes,
        ...accounts.routes,
        ...graphqlModule.routes,
        // The self-serve web console (console/), a single-page app over /auth and /graphql.
        {
          path: CONSOLE_BASE_PATH,
          access: 'public',
          router: createConsoleRouter({ distDir: CONSOLE_DIST_DIR }),
        },
      ],
    });
    const server = await listen(app, config);
    cleanups.push(() => closeServer(server));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    listening.port = port;
    Object.assign(
      hostEnvironment,
      dataPlaneHostTokenEnvironment(publicBaseUrl(config, port), { host: config.host, port }),
    );

    const running = createTenantController({
      store: repository,
      reconciler: createTenantReconciler({
        store: repository,
        drivers: local.drivers,
        endpointsFor: tenantEndpoints(publicBaseUrl(config, port)),
        logger: logger.child({ component: 'reconciler' }),
      }),
      logger: logger.child({ component: 'controller' }),
      concurrency: config.reconcileConcurrency,
      resyncIntervalMs: config.resyncIntervalMs,
    });
    controller = running;
    local.services.onChange((slug) => running.enqueue(slug));
    cleanups.push(() => running.stop());
    await running.start();

    return {
      url: `http://127.0.0.1:${port}`,
      generatedAdminToken: adminToken.generatedToken,
      instanceId,
      controller: running,
      close: () => runCleanups(cleanups, logger),
    };
  } catch (error) {
    await runCleanups(cleanups, logger);
    throw error;
  }
}

async function connectRedis(config: PlatformConfig, logger: Logger): Promise<Redis | undefined> {
  if (config.redisUrl === undefined) return undefined;
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', (error: unknown) => logger.warn({ err: error }, 'redis error'));
  await redis.connect();
  return redis;
}

/**
 * Revokes CONNECT on the control plane's own database from PUBLIC: tenant roles live on
 * the same server and must not reach it. A platform user that does not own the database
 * cannot do this; then the operator must, and we say so.
 */
async function closeToPublic(adminPool: pg.Pool, logger: Logger): Promise<void> {
  const client = await adminPool.connect();
  try {
    const result = await client.query<{ name: string }>('SELECT current_database() AS name');
    const name = result.rows[0]?.name ?? '';
    await client.query(`REVOKE CONNECT ON DATABASE ${client.escapeIdentifier(name)} FROM PUBLIC`);
  } catch (error) {
    logger.warn(
      { err: error },
      'could not revoke CONNECT on the control-plane database from PUBLIC; tenant roles may connect to it',
    );
  } finally {
    client.release();
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
