import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type { PrismaClient };

/** A Prisma client on the pg driver adapter: no native query engine, no network at run time. */
export function createPrismaClient(connectionString: string, maxConnections = 10): PrismaClient {
  const adapter = new PrismaPg({
    connectionString,
    max: maxConnections,
    idleTimeoutMillis: 10_000,
  });
  return new PrismaClient({ adapter });
}
