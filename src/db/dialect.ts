import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CamelCasePlugin, Kysely, SqliteAdapter, sql } from 'kysely';
import postgres from 'postgres';
import type { StorageConfig } from '../config.js';
import { DATABASE_TIMEOUT_MS } from '../limits.js';
import { postgresDialect } from './postgres-driver.js';
import { sqliteDialect } from './sqlite-driver.js';
import type { Database } from './tables.js';

/** An open database of either engine, with what the rest of the service needs of it. */
export interface Storage {
  db: Kysely<Database>;
  engine: 'sqlite' | 'postgres';
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Closes every connection; the database file (if any) is left consistent. */
  close(): Promise<void>;
}

/** Connections PostgreSQL gives one process; two cores keep few queries truly parallel. */
const POSTGRES_POOL_SIZE = 16;

/** Seconds to wait for a PostgreSQL connection before a query fails. */
const POSTGRES_CONNECT_TIMEOUT_SECONDS = 5;

/** Whether a Kysely instance talks to SQLite (migrations differ in a few column options). */
export function isSqlite(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/**
 * Opens the configured database. Nothing is created or migrated here. On
 * PostgreSQL a statement that gets no answer within `timeoutMs` fails as
 * unavailable; SQLite's own busy timeout bounds its waits.
 */
export function openStorage(config: StorageConfig, timeoutMs = DATABASE_TIMEOUT_MS): Storage {
  return config.kind === 'sqlite' ? openSqlite(config.file) : openPostgres(config.url, timeoutMs);
}

function openSqlite(file: string): Storage {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file);
  // WAL lets readers run beside the writer; FULL makes every commit durable
  // before the answer leaves, so an acknowledged write survives a power cut.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');

  const db = new Kysely<Database>({
    dialect: sqliteDialect(database),
    plugins: [new CamelCasePlugin()],
  });
  return {
    db,
    engine: 'sqlite',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, timeoutMs: number): Storage {
  const client = postgres(url, {
    max: POSTGRES_POOL_SIZE,
    connect_timeout: POSTGRES_CONNECT_TIMEOUT_SECONDS,
    onnotice: () => {},
  });
  const db = new Kysely<Database>({
    dialect: postgresDialect(client, timeoutMs),
    plugins: [new CamelCasePlugin()],
  });
  return {
    db,
    engine: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
