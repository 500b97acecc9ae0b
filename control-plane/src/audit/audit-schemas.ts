import { z } from 'zod';

/** The query of `GET /api/v1/tenants/{slug}/audit`. */
export const auditListQuerySchema = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().min(1).max(64).optional(),
    action: z.string().min(1).max(100).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .refine(
    (query) =>
      query.since === undefined ||
      query.until === undefined ||
      Date.parse(query.since) < Date.parse(query.until),
    { message: 'since must be before until', path: ['since'] },
  );
