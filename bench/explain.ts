import { randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';
import { CamelCasePlugin, type CompiledQuery, Kysely, type LogEvent, SqliteDialect } from 'kysely';
import postgres from 'postgres';
import { postgresDialect } from '../src/db/postgres-driver.js';
import type { Database } from '../src/db/tables.js';
import { DATABASE_TIMEOUT_MS } from '../src/limits.js';
import { SessionStore } from '../src/sessions/store.js';
import { UserStore } from '../src/users/store.js';
import { LoginThrottle } from '../src/users/throttle.js';
import { userName } from './seeding.js';

/** The plan of one hot query and whether every table access in it goes through an index. */
export interface QueryPlan {
  name: string;
  plan: string;
  indexed: boolean;
}

/** A hot query: a name and the store call that issues it. */
interface HotQuery {
  name: string;
  run(stores: Stores): Promise<unknown>;
}

interface Stores {
  sessions: SessionStore;
  users: UserStore;
  throttle: LoginThrottle;
  /** A user without a session, to log in and out. */
  freeUser: number;
}

const HOT_QUERIES: HotQuery[] = [
  { name: 'session by owner', run: (s) => s.sessions.find(1) },
  { name: 'session update', run: (s) => s.sessions.update(1, { externalClientPort: 27_015 }) },
  {
    name: 'sessions in a channel',
    run: (s) => s.sessions.list(0, 25, { channelServerIndex: 1, channelIndex: 1 }),
  },
  { name: 'user by id', run: (s) => s.users.findById(1) },
  { name: 'user by name (login)', run: (s) => s.users.findByNameKey(userName(s.freeUser)) },
  { name: 'failed logins check', run: (s) => s.throttle.check(userName(1), '127.0.0.1') },
  { name: 'failed logins clear', run: (s) => s.throttle.clear(userName(1)) },
  { name: 'session insert (login)', run: (s) => s.sessions.create(s.freeUser, randomUUID()) },
  { name: 'session delete (logout)', run: (s) => s.sessions.remove(s.freeUser) },
];

/** Limits of the throttle as the service configures them by default. */
const THROTTLE_LIMITS = { maxFailures: 5, maxFailuresPerAddress: 1_000, windowSeconds: 900 };

/** Runs each hot query of the service's stores once on PostgreSQL and EXPLAINs it. */
export async function explainPostgres(url: string, freeUser: number): Promise<QueryPlan[]> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  const captured: CompiledQuery[] = [];
  const db = new Kysely<Database>({
    dialect: postgresDialect(client, DATABASE_TIMEOUT_MS),
    plugins: [new CamelCasePlugin()],
    log: capture(captured),
  });
  try {
    const explain = async (query: CompiledQuery) => {
      const lines = await explainOnce(client, query);
      if (!lines.some((line) => line.includes('Seq Scan'))) return lines;
      // A table with no rows (failed logins, most of the time) is scanned
      // because that is cheapest; show the index plan it gets once it fills.
      await client.unsafe('set enable_seqscan = off');
      const indexed = await explainOnce(client, query);
      await client.unsafe('reset enable_seqscan');
      return [...lines, ...SEQ_SCAN_NOTE, ...indexed];
    };
    return await planEach(db, freeUser, captured, explain, postgresIndexed);
  } finally {
    await db.destroy();
  }
}

/** The same on the embedded database, with EXPLAIN QUERY PLAN. */
export async function explainSqlite(file: string, freeUser: number): Promise<QueryPlan[]> {
  const database = new SQLite(file);
  const captured: CompiledQuery[] = [];
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database }),
    plugins: [new CamelCasePlugin()],
    log: capture(captured),
  });
  try {
    const explain = async (query: CompiledQuery) => {
      const statement = database.prepare(`explain query plan ${query.sql}`);
      const rows = statement.all(...(query.parameters as unknown[])) as Array<{ detail: string }>;
      return rows.map((row) => row.detail);
    };
    return await planEach(db, freeUser, captured, explain, sqliteIndexed);
  } finally {
    await db.destroy();
  }
}

/** Separates the chosen plan from the one without sequential scans. */
const SEQ_SCAN_NOTE = ['(table nearly empty; with seq scans off:)'];

async function explainOnce(client: postgres.Sql, query: CompiledQuery): Promise<string[]> {
  const rows = await client.unsafe(`explain ${query.sql}`, query.parameters as never[]);
  return rows.map((row) => String(row['QUERY PLAN']));
}

function capture(captured: CompiledQuery[]) {
  return (event: LogEvent) => {
    if (event.level === 'query') captured.push(event.query);
  };
}

async function planEach(
  db: Kysely<Database>,
  freeUser: number,
  captured: CompiledQuery[],
  explain: (query: CompiledQuery) => Promise<string[]>,
  indexed: (lines: string[]) => boolean,
): Promise<QueryPlan[]> {
  const stores: Stores = {
    sessions: new SessionStore(db, 0),
    users: new UserStore(db),
    throttle: new LoginThrottle(db, THROTTLE_LIMITS),
    freeUser,
  };
  const plans: QueryPlan[] = [];
  for (const query of HOT_QUERIES) {
    captured.length = 0;
    await query.run(stores);
    const compiled = captured.at(-1);
    if (!compiled) throw new Error(`${query.name}: no query was issued`);
    const lines = await explain(compiled);
    plans.push({ name: query.name, plan: summarize(lines), indexed: indexed(lines) });
  }
  return plans;
}

/** Plan nodes and the index an ON CONFLICT arbitrates on, without their detail lines. */
function summarize(lines: string[]): string {
  const note = lines.indexOf(SEQ_SCAN_NOTE[0] ?? '');
  if (note !== -1) {
    const chosen = summarize(lines.slice(0, note));
    return `${chosen} (empty table; seq scans off: ${summarize(lines.slice(note + 1))})`;
  }
  const nodes = lines
    .map((line) => line.replace(/^[\s->]+/, '').replace(/\s+\(cost=.*$/, ''))
    .filter((line) => !/^(Index Cond|Filter|Recheck Cond|Sort Key|Conflict Resolution)/.test(line));
  return nodes.join(' → ') || 'no table access';
}

/** No sequential scan, and a write's row is found by an index (or an ON CONFLICT arbiter). */
function postgresIndexed(all: string[]): boolean {
  const note = all.indexOf(SEQ_SCAN_NOTE[0] ?? '');
  const lines = note === -1 ? all : all.slice(note + 1);
  const text = lines.join('\n');
  if (text.includes('Seq Scan')) return false;
  return /Index (Only )?Scan|Bitmap Index Scan|Conflict Arbiter Indexes/.test(text);
}

/** SQLite: SEARCH through an index or the primary key, never a SCAN of a table. */
function sqliteIndexed(lines: string[]): boolean {
  if (lines.some((line) => line.startsWith('SCAN'))) return false;
  return lines.length === 0 || lines.some((line) => /^SEARCH .* USING/.test(line));
}
