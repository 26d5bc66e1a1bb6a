import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../src/db/tables.js';
import { hashPassword, legacyHash } from '../src/users/passwords.js';

/** The password of every seeded user, so that the login phases can log anyone in. */
export const BENCH_PASSWORD = 'bench-password';

/**
 * PBKDF2 iterations of the seeded legacy hashes: the original service's
 * setting, so a legacy login costs what an imported account costs.
 */
export const LEGACY_ITERATIONS = 10_000;

/** Seeded login names are this plus the user id: `u10000001`, 9 characters (3..10 allowed). */
const NAME_BASE = 10_000_000;

/** Sessions are spread over this many channel servers of this many channels each. */
export const CHANNEL_SERVERS = 4;
export const CHANNELS = 8;

/** Rows per INSERT ... SELECT, so a million-row seed reports progress and no statement is huge. */
const CHUNK_ROWS = 100_000;

/** What one database is filled with; ids are dense from 1 on a fresh database. */
export interface SeedPlan {
  /** Users with an argon2id hash, ids 1..users. */
  users: number;
  /** Live sessions, owned by users 1..sessions. */
  sessions: number;
  /** Users with a legacy PBKDF2 hash, ids users+1..users+legacyUsers. */
  legacyUsers: number;
}

/** The login name of the argon2 user with this id. */
export function userName(id: number): string {
  return `u${NAME_BASE + id}`;
}

/** The login name of the n-th legacy user (id `plan.users + n`). */
export function legacyUserName(n: number): string {
  return `l${NAME_BASE + n}`;
}

/** Fills a freshly migrated database; every user shares one real hash of BENCH_PASSWORD. */
export async function seed(
  db: Kysely<Database>,
  engine: 'sqlite' | 'postgres',
  plan: SeedPlan,
  progress: (message: string) => void = () => {},
): Promise<void> {
  const sqlOf = engine === 'postgres' ? POSTGRES : SQLITE;
  const argon2 = await hashPassword(BENCH_PASSWORD);
  const legacy = await legacyHash(BENCH_PASSWORD, 'benchsalt', LEGACY_ITERATIONS);

  for (const [first, last] of chunks(plan.users)) {
    await insertUsers(db, sqlOf, { prefix: 'u', player: 'Player', first, last, hash: argon2 });
    progress(`users ${last}/${plan.users}`);
  }
  for (const [first, last] of chunks(plan.legacyUsers)) {
    await insertUsers(db, sqlOf, { prefix: 'l', player: 'Legacy', first, last, hash: legacy });
  }
  for (const [first, last] of chunks(plan.sessions)) {
    await insertSessions(db, sqlOf, first, last);
    progress(`sessions ${last}/${plan.sessions}`);
  }
  await sql`analyze`.execute(db);
}

/** The two expressions that differ between the engines. */
interface EngineSql {
  timestamp(iso: string): RawBuilder<unknown>;
  uuid: RawBuilder<unknown>;
}

const POSTGRES: EngineSql = {
  timestamp: (iso) => sql`cast(${iso} as timestamptz)`,
  uuid: sql`gen_random_uuid()`,
};

/** A random version-4 uuid in SQLite, which has no uuid function. */
const SQLITE: EngineSql = {
  timestamp: (iso) => sql`${iso}`,
  uuid: sql.raw(
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || " +
      "substr(lower(hex(randomblob(2))), 2) || '-' || " +
      "substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || " +
      "'-' || lower(hex(randomblob(6)))",
  ),
};

interface UserBatch {
  prefix: string;
  player: string;
  first: number;
  last: number;
  hash: string;
}

/** Inserts users numbered first..last in one statement; names are already keys (lower case). */
async function insertUsers(db: Kysely<Database>, engine: EngineSql, batch: UserBatch) {
  const name = sql`${sql.lit(batch.prefix)} || (${sql.lit(NAME_BASE)} + n.i)`;
  const player = sql`${sql.lit(`${batch.player} `)} || n.i`;
  const playerKey = sql`${sql.lit(`${batch.player.toLowerCase()} `)} || n.i`;
  await sql`
    insert into users
      (user_name, user_name_key, player_name, player_name_key, password_hash, created_at)
    with recursive n(i) as (
      select ${sql.lit(batch.first)} union all select i + 1 from n where i < ${sql.lit(batch.last)}
    )
    select ${name}, ${name}, ${player}, ${playerKey}, cast(${batch.hash} as text),
      ${engine.timestamp(new Date().toISOString())}
    from n order by n.i`.execute(db);
}

/** Opens sessions for users first..last, spread over channels and addresses. */
async function insertSessions(
  db: Kysely<Database>,
  engine: EngineSql,
  first: number,
  last: number,
) {
  const now = engine.timestamp(new Date().toISOString());
  const channel = sql`1 + (id / ${sql.lit(CHANNEL_SERVERS)}) % ${sql.lit(CHANNELS)}`;
  await sql`
    insert into sessions
      (user_id, session_id, external_ip_address, external_client_port,
       current_channel_server_index, current_channel_index, created_at, updated_at)
    select id, ${engine.uuid}, '198.51.100.' || (id % 250 + 1), 27005 + id % 100,
      1 + id % ${sql.lit(CHANNEL_SERVERS)}, ${channel},
      ${now}, ${now}
    from users where id between ${sql.lit(first)} and ${sql.lit(last)}`.execute(db);
}

function chunks(total: number): Array<[number, number]> {
  const result: Array<[number, number]> = [];
  for (let first = 1; first <= total; first += CHUNK_ROWS) {
    result.push([first, Math.min(total, first + CHUNK_ROWS - 1)]);
  }
  return result;
}
