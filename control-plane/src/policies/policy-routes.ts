import { Router, type ErrorRequestHandler, type Request } from 'express';
import { z } from 'zod';
import type { PolicyValidationError } from '@citadel/data-plane-runtime';
import type { AuditActor } from '../audit/audit-entry.ts';
import { slugParamSchema } from '../http/api-schemas.ts';
import { jsonBody } from '../http/json-body.ts';
import { problem, validationProblem, type HttpProblem } from '../http/problem.ts';
import { PolicyError, type PolicyErrorCode } from './policy-error.ts';
import type { PolicyService, TenantPolicyRecord } from './policy.service.ts';

export const policyInputSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63'),
  description: z.string().max(1_000).default(''),
  text: z.string().min(1).max(32_768),
});

const CEDAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;
const entityUidSchema = z.strictObject({
  type: z.string().regex(CEDAR_NAME),
  id: z.string().max(1_024),
});
const cedarRecordSchema = z.record(z.string(), z.json());
export const evaluateRequestSchema = z.strictObject({
  principal: entityUidSchema,
  action: entityUidSchema,
  resource: entityUidSchema,
  context: cedarRecordSchema.optional(),
  entities: z
    .array(
      z.strictObject({
        uid: entityUidSchema,
        attrs: cedarRecordSchema.default({}),
        parents: z.array(entityUidSchema).default([]),
      }),
    )
    .max(1_000)
    .optional(),
});

const POLICY_ERROR_STATUS: Record<PolicyErrorCode, { status: number; title: string }> = {
  'policy-not-found': { status: 404, title: 'Policy not found' },
  'policy-name-taken': { status: 409, title: 'Policy name already used' },
  'policy-invalid': { status: 400, title: 'Invalid policy' },
  'policies-unavailable': { status: 503, title: 'Policies unavailable' },
};

function validationErrorsOf(error: PolicyError): Array<PolicyValidationError & { path: string }> {
  const errors = (error.details.errors ?? []) as PolicyValidationError[];
  return errors.map((detail) => ({ path: 'text', ...detail }));
}

/** The one mapping of policy errors to RFC 7807 problems. */
function toProblem(error: PolicyError): HttpProblem {
  const { status, title } = POLICY_ERROR_STATUS[error.code];
  const extensions =
    error.code === 'policy-invalid' ? { errors: validationErrorsOf(error) } : error.details;
  return problem({ status, slug: error.code, title, detail: error.message, extensions });
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where);
  return result.data;
}

function slugOf(request: Request): string {
  return parse(slugParamSchema, { slug: request.params.slug }, 'path').slug;
}

/** Policy routes sit behind the operator token. */
function operatorOf(request: Request): AuditActor {
  return { type: 'operator', ip: request.ip };
}

function policyIdOf(request: Request): string {
  return String(request.params.policyId);
}

function toPolicyView(record: TenantPolicyRecord) {
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    text: record.text,
    version: record.version,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

/**
 * Tenant policies under /api/v1/tenants/:slug/policies (operator access). Each route parses,
 * calls one use case of the policy service, and maps the result.
 */
export function createPolicyRouter(policies: PolicyService): Router {
  const router = Router({ mergeParams: true });

  router.get('/', async (request, response) => {
    const items = await policies.list(slugOf(request));
    response.json({ items: items.map(toPolicyView) });
  });

  router.post('/', ...jsonBody(), async (request, response) => {
    const slug = slugOf(request);
    const input = parse(policyInputSchema, request.body, 'request body');
    const created = await policies.create(slug, input, operatorOf(request));
    response
      .status(201)
      .location(`/api/v1/tenants/${slug}/policies/${created.id}`)
      .json(toPolicyView(created));
  });

  router.post('/evaluate', ...jsonBody(), async (request, response) => {
    const slug = slugOf(request);
    const input = parse(evaluateRequestSchema, request.body, 'request body');
    response.json(await policies.evaluate(slug, input));
  });

  router.get('/:policyId', async (request, response) => {
    response.json(toPolicyView(await policies.get(slugOf(request), policyIdOf(request))));
  });

  router.put('/:policyId', ...jsonBody(), async (request, response) => {
    const slug = slugOf(request);
    const input = parse(policyInputSchema, request.body, 'request body');
    response.json(
      toPolicyView(await policies.update(slug, policyIdOf(request), input, operatorOf(request))),
    );
  });

  router.delete('/:policyId', async (request, response) => {
    await policies.delete(slugOf(request), policyIdOf(request), operatorOf(request));
    response.status(204).end();
  });

  const mapPolicyErrors: ErrorRequestHandler = (error: unknown, _request, _response, next) => {
    next(error instanceof PolicyError ? toProblem(error) : error);
  };
  router.use(mapPolicyErrors);
  return router;
}
