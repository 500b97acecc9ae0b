import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import type { ScimSearch, ScimSearchPage } from '../domain/scim-list-query.ts';
import {
  probeTextFold,
  createScimSqlTranslator,
  type ScimSqlTable,
} from './scim-sql-translator.ts';

const { sql, raw } = Prisma;
/** The order listings have without `sortBy`, and the tie-break with it (the sort is stable). */
const LISTING_ORDER = sql`r.created_at ASC, r.id ASC`;

/** A table searched in SQL: its FROM clause (alias `r`) and the columns a page selects. */
export interface ScimSqlSource extends ScimSqlTable {
  /** e.g. `tenant_users r`. */
  from: string;
  /** The select list, aliased to the Prisma model's field names. */
  select: string;
}

/**
 * SCIM searches in SQL for one table: the whole filter as a WHERE clause, `sortBy` then
 * the listing order (created, id) as ORDER BY, `startIndex`/`count` as OFFSET/LIMIT and
 * totalResults from a COUNT (skipped when the page itself shows the total). Undefined when
 * the filter or sort cannot be expressed exactly; the caller then filters in memory.
 */
export function createScimSqlSearch<Row>(prisma: PrismaClient, source: ScimSqlSource) {
  let translator: Promise<ReturnType<typeof createScimSqlTranslator>> | undefined;
  const translatorOf = () =>
    (translator ??= probeTextFold(prisma).then((fold) => createScimSqlTranslator(source, fold)));

  const from = raw(source.from);

  async function page(condition: Prisma.Sql, order: Prisma.Sql, search: ScimSearch) {
    if (search.count === 0) return [];
    return prisma.$queryRaw<Row[]>(sql`
      SELECT ${raw(source.select)} FROM ${from} WHERE ${condition}
      ORDER BY ${order} LIMIT ${search.count} OFFSET ${search.startIndex - 1}`);
  }

  async function total(condition: Prisma.Sql): Promise<number> {
    const [counted] = await prisma.$queryRaw<Array<{ total: number }>>(sql`
      SELECT count(*)::int AS total FROM ${from} WHERE ${condition}`);
    return counted?.total ?? 0;
  }

  return async (tenantId: string, search: ScimSearch): Promise<ScimSearchPage<Row> | undefined> => {
    const translate = await translatorOf();
    const where = search.filter ? translate.where(search.filter) : sql`TRUE`;
    const sortKey = search.sortBy && translate.orderBy(search.sortBy, search.sortOrder);
    if (!where || (search.sortBy && !sortKey)) return undefined;
    const condition = sql`r.tenant_id = ${tenantId}::uuid AND ${where}`;
    const order = sortKey ? sql`${sortKey}, ${LISTING_ORDER}` : LISTING_ORDER;
    const records = await page(condition, order, search);
    const offset = search.startIndex - 1;
    // A short, non-empty page (or a short first page) ends the result: no COUNT needed.
    if (records.length < search.count && (records.length > 0 || offset === 0))
      return { records, totalResults: offset + records.length };
    return { records, totalResults: await total(condition) };
  };
}
