import type { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Prisma } from './generated/client.js';

/** A Prisma driver adapter factory, as the client's `adapter` option takes it. */
export type DriverAdapterFactory = NonNullable<Prisma.PrismaClientOptions['adapter']>;

/**
 * Prisma's driver adapter over a PGlite instance. pglite-prisma-adapter 0.6.1 is typed against
 * @prisma/driver-adapter-utils 6.10, whose `SqlQuery.argTypes` entries were strings (objects
 * in 6.19); the adapter never reads `argTypes`, so only the types disagree.
 */
export function createPGliteAdapter(db: PGlite): DriverAdapterFactory {
  return new PrismaPGlite(db) as unknown as DriverAdapterFactory;
}
