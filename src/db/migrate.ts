import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as usersAndSessions from './migrations/0001-users-and-sessions.js';
import type { Database } from './tables.js';

/** Every migration, in order; listed here so that a build needs no file scanning. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-users-and-sessions': usersAndSessions,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Brings the schema up to date. Kysely takes a lock first, so several
 * processes starting together on one PostgreSQL apply each migration once.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db: db as Kysely<unknown>, provider });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
