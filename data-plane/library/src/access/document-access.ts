import {
  citadelEntity,
  createDataPlaneAuthorizer,
  type CedarEntity,
  type CedarValueJson,
  type RequestPrincipal,
} from '@citadel/data-plane-runtime';
import type { ReadableDocuments } from '../store/library-store.ts';

/** How sensitive a document is; its Cedar `Document` entity's `classification`. */
export const DOCUMENT_CLASSIFICATIONS = [
  'public',
  'internal',
  'confidential',
  'restricted',
] as const;
export type DocumentClassification = (typeof DOCUMENT_CLASSIFICATIONS)[number];

/** The document attributes a policy may read (the schema's `Citadel::Document`). */
export interface DocumentAttributes {
  id: string;
  classification: string;
  ownerId: string | null | undefined;
}

export interface DocumentAccessOptions {
  tenantId: string;
  planId: string;
  /** The tenant admins' own Cedar policies, if the data plane has them. */
  tenantPolicies?: Readonly<Record<string, string>>;
}

/** A caller may not do what it asked; `action` names the Cedar action refused. */
export class DocumentAccessDeniedError extends Error {
  readonly action: string;
  constructor(action: string) {
    super(`the caller may not ${action}`);
    this.name = 'DocumentAccessDeniedError';
    this.action = action;
  }
}

const CACHE_LIMIT = 1_000;
const CACHE_TTL_MS = 30_000;

/**
 * Document-level access control, decided by Cedar with the tenant's policy set.
 *
 * A single document is authorised directly (`document.read`, `document.write`). A search
 * cannot ask Cedar about each of 100,000 chunks, and need not: the schema's `Document` has
 * only `tenant`, `owner` and `classification`, and the tenant is the host's own. So Cedar's
 * answer for a document depends only on its classification and on whether the caller owns
 * it. The library asks Cedar once per (classification × owned/not owned) — eight decisions —
 * and turns the answers into a SQL filter (`ReadableDocuments`) applied inside the ranking
 * queries, before any limit: the search never sees, counts or pages a document the caller
 * may not read. Answers are cached per principal for 30 s.
 */
export function createDocumentAccess(options: DocumentAccessOptions) {
  const authorizer = createDataPlaneAuthorizer(options);
  const tenant: CedarValueJson = { __entity: citadelEntity('Tenant', options.tenantId) };
  const cache = new Map<string, { readable: ReadableDocuments; expires: number }>();

  const ownerIdOf = (principal: RequestPrincipal) =>
    principal.type === 'user' ? principal.id : undefined;

  function documentEntity(document: DocumentAttributes): CedarEntity {
    const attrs: Record<string, CedarValueJson> = {
      tenant,
      classification: document.classification,
    };
    if (document.ownerId) attrs.owner = { __entity: citadelEntity('User', document.ownerId) };
    return { uid: citadelEntity('Document', document.id), attrs, parents: [] };
  }

  function allowed(
    principal: RequestPrincipal,
    action: 'document.read' | 'document.search' | 'document.write',
    document: DocumentAttributes,
  ): boolean {
    return (
      authorizer.authorize({ principal, action, resource: documentEntity(document) }).decision ===
      'allow'
    );
  }

  function cacheKey(principal: RequestPrincipal): string {
    return JSON.stringify(principal);
  }

  return {
    /** What `principal` may find by search: a filter for the ranking queries. */
    readable(principal: RequestPrincipal): ReadableDocuments {
      const key = cacheKey(principal);
      const now = Date.now();
      const cached = cache.get(key);
      if (cached && cached.expires > now) return cached.readable;
      const ownerId = ownerIdOf(principal);
      const other = principal.type === 'user' ? `${principal.id}\u0000other` : 'nobody';
      const readable: ReadableDocuments = {
        classifications: DOCUMENT_CLASSIFICATIONS.filter((classification) =>
          allowed(principal, 'document.search', {
            id: 'probe',
            classification,
            ownerId: other,
          }),
        ),
        ownerId,
        ownClassifications:
          ownerId === undefined
            ? []
            : DOCUMENT_CLASSIFICATIONS.filter((classification) =>
                allowed(principal, 'document.search', { id: 'probe', classification, ownerId }),
              ),
      };
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, { readable, expires: now + CACHE_TTL_MS });
      return readable;
    },

    /** Throws DocumentAccessDeniedError unless `principal` may do `action` to `document`. */
    require(
      principal: RequestPrincipal,
      action: 'document.read' | 'document.write',
      document: DocumentAttributes,
    ): void {
      if (!allowed(principal, action, document)) throw new DocumentAccessDeniedError(action);
    },

    /** May `principal` see this document (GET, citations)? */
    mayRead(principal: RequestPrincipal, document: DocumentAttributes): boolean {
      return allowed(principal, 'document.read', document);
    },

    /**
     * Knowledge-base administration (snapshots, rollback, settings, originals): the tenant's
     * `tenant.update` permission.
     */
    requireAdministrator(principal: RequestPrincipal): void {
      const decision = authorizer.authorize({
        principal,
        action: 'tenant.update',
        resource: { uid: citadelEntity('Tenant', options.tenantId), attrs: {}, parents: [] },
      });
      if (decision.decision !== 'allow') throw new DocumentAccessDeniedError('tenant.update');
    },

    ownerIdOf,
  };
}

export type DocumentAccess = ReturnType<typeof createDocumentAccess>;
