import { once } from 'node:events';
import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { TenantResource } from '@citadel/contracts';
import { slugParamSchema } from '../http/api-schemas.ts';
import { problem, validationProblem } from '../http/problem.ts';
import { AuditError, type AuditErrorCode } from './audit-error.ts';
import type { AuditLog } from './audit-log.ts';
import { auditListQuerySchema } from './audit-schemas.ts';
import type { AuditSigner } from './audit-signer.ts';

export interface AuditRoutesDeps {
  auditLog: AuditLog;
  getTenant(slug: string): Promise<TenantResource | undefined>;
}

const AUDIT_ERROR_STATUS: Record<AuditErrorCode, { status: number; title: string }> = {
  'tenant-not-found': { status: 404, title: 'Tenant not found' },
  'audit-log-empty': { status: 409, title: 'Audit log is empty' },
  'invalid-cursor': { status: 400, title: 'Invalid cursor' },
};

/** The one place audit errors become problems. */
const auditErrorToProblem: ErrorRequestHandler = (error: unknown, _request, _response, next) => {
  if (!(error instanceof AuditError)) {
    next(error);
    return;
  }
  const { status, title } = AUDIT_ERROR_STATUS[error.code];
  next(problem({ status, slug: error.code, title, detail: error.message }));
};

async function tenantOf(deps: AuditRoutesDeps, request: Request): Promise<TenantResource> {
  const parsed = slugParamSchema.safeParse({ slug: request.params.slug });
  if (!parsed.success) throw validationProblem(parsed.error, 'path');
  const tenant = await deps.getTenant(parsed.data.slug);
  if (!tenant) throw new AuditError('tenant-not-found', `No tenant "${parsed.data.slug}".`);
  return tenant;
}

/** Writes every entry as one JSON line, oldest first, honouring back-pressure. */
async function streamExport(
  auditLog: AuditLog,
  tenant: TenantResource,
  response: Response,
): Promise<void> {
  // attachment() guesses a type from the file name: set ours after it.
  response
    .status(200)
    .attachment(`audit-${tenant.metadata.name}.ndjson`)
    .type('application/x-ndjson; charset=utf-8');
  try {
    for await (const entry of auditLog.entries(tenant.metadata.uid)) {
      if (response.destroyed) return;
      if (!response.write(`${JSON.stringify(entry)}\n`)) await once(response, 'drain');
    }
    response.end();
  } catch (error) {
    // Headers are gone: a truncated body (no final newline) is all we can signal.
    response.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * A tenant's audit log, mounted at `/api/v1/tenants/:slug/audit` for platform operators:
 * - `GET /` entries newest first (`limit`, `cursor`, `action`, `since`, `until`);
 * - `GET /export` all entries oldest first as NDJSON (chain order, ready to verify offline);
 * - `POST /verify` the verification report; `POST /checkpoints` a signed checkpoint now.
 */
export function createAuditRouter(deps: AuditRoutesDeps): Router {
  const router = Router({ mergeParams: true });
  const { auditLog } = deps;

  router.get('/', async (request, response) => {
    const parsed = auditListQuerySchema.safeParse(request.query);
    if (!parsed.success) throw validationProblem(parsed.error, 'query string');
    const tenant = await tenantOf(deps, request);
    const { since, until, ...query } = parsed.data;
    const page = await auditLog.list(tenant.metadata.uid, {
      ...query,
      since: since === undefined ? undefined : new Date(since),
      until: until === undefined ? undefined : new Date(until),
    });
    response.json({
      items: page.items,
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    });
  });

  router.get('/export', async (request, response) => {
    await streamExport(auditLog, await tenantOf(deps, request), response);
  });

  router.post('/verify', async (request, response) => {
    const tenant = await tenantOf(deps, request);
    response.json(await auditLog.verify(tenant.metadata.uid));
  });

  router.post('/checkpoints', async (request, response) => {
    const tenant = await tenantOf(deps, request);
    response.status(201).json(await auditLog.checkpoint(tenant.metadata.uid));
  });

  router.use(auditErrorToProblem);
  return router;
}

/** `GET /api/v1/audit/signing-keys`: the public keys (JWK Set) that verify checkpoints. Public. */
export function createAuditSigningKeysRouter(signer: AuditSigner): Router {
  const router = Router();
  router.get('/', (_request, response) => {
    response.set('cache-control', 'public, max-age=300').json({ keys: signer.publicKeys() });
  });
  return router;
}
