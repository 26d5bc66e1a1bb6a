import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { openStorage, type Storage } from '../src/db/dialect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { type SeedPlan, seed } from './seeding.js';

/** A database made for one service run: how to point the service at it, and how to remove it. */
export interface BenchDatabase {
  engine: 'sqlite' | 'postgres';
  /** The variables that point the service at this database. */
  env: Record<string, string>;
  /** The PostgreSQL URL of the database, for EXPLAIN. */
  url?: string;
  /** Opens the database as the service does. */
  open(): Storage;
  drop(): Promise<void>;
}

/** An embedded database in a new temporary data folder, as an operator runs it. */
export function sqliteDatabase(): BenchDatabase {
  const dataDir = mkdtempSync(join(tmpdir(), 'cso2-bench-'));
  return {
    engine: 'sqlite',
    env: { DATA_DIR: dataDir },
    open: () => openStorage({ kind: 'sqlite', file: join(dataDir, 'users.sqlite') }),
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** A new, empty PostgreSQL database on the given server, dropped afterwards. */
export async function postgresDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `cso2_bench_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    engine: 'postgres',
    env: { DATABASE_URL: url.toString() },
    url: url.toString(),
    open: () => openStorage({ kind: 'postgres', url: url.toString() }),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** Creates the schema with the service's own migrations, then fills it. */
export async function migrateAndSeed(
  database: BenchDatabase,
  plan: SeedPlan,
  progress?: (message: string) => void,
): Promise<void> {
  const storage = database.open();
  try {
    await migrateToLatest(storage.db);
    await seed(storage.db, database.engine, plan, progress);
  } finally {
    await storage.close();
  }
}
