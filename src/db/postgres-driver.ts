import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { ReservedSql, Sql } from 'postgres';

/**
 * Kysely on a postgres.js pool. A single statement goes to the pool, which
 * fails fast and reconnects by itself when the server goes away; only a
 * transaction reserves a connection of its own. The kysely-postgres-js driver
 * reserves one for every statement, and in postgres.js 3.4.9 a reservation
 * made while the server drops its connections can stay unsettled for ever
 * (porsager/postgres#1195). Pool statements can hang too when the server
 * stops under load, so every statement and reservation gets `timeoutMs` to
 * settle; past it the caller gets a DatabaseTimeoutError (answered 503) while
 * the statement itself may still complete later.
 */
export function postgresDialect(client: Sql, timeoutMs: number): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new PostgresPoolDriver(client, timeoutMs),
    createIntrospector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

/** A statement or reservation got no answer in time; the database counts as unavailable. */
export class DatabaseTimeoutError extends Error {
  readonly code = 'DATABASE_TIMEOUT';

  constructor(timeoutMs: number) {
    super(`the database did not answer within ${timeoutMs} ms`);
    this.name = 'DatabaseTimeoutError';
  }
}

class PostgresPoolDriver implements Driver {
  constructor(
    private readonly client: Sql,
    private readonly timeoutMs: number,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new PostgresPoolConnection(this.client, this.timeoutMs);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    await (connection as PostgresPoolConnection).reserve();
    const { isolationLevel, accessMode } = settings;
    let begin = 'start transaction';
    if (isolationLevel) begin += ` isolation level ${isolationLevel}`;
    if (accessMode) begin += ` ${accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(begin));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PostgresPoolConnection).release();
  }

  async destroy(): Promise<void> {
    await this.client.end();
  }
}

/** Runs statements on the pool, or on one reserved connection inside a transaction. */
class PostgresPoolConnection implements DatabaseConnection {
  private reserved: ReservedSql | undefined;

  constructor(
    private readonly pool: Sql,
    private readonly timeoutMs: number,
  ) {}

  async reserve(): Promise<void> {
    const reservation = this.pool.reserve();
    // A reservation that arrives after its deadline is handed straight back.
    const late = (reserved: ReservedSql) => reserved.release();
    this.reserved ??= await withDeadline(reservation, this.timeoutMs, late);
  }

  release(): void {
    this.reserved?.release();
    this.reserved = undefined;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const sql = this.reserved ?? this.pool;
    const statement = sql.unsafe(query.sql, [...query.parameters] as never[], { prepare: true });
    const result = await withDeadline(statement, this.timeoutMs);
    const { command, count } = result;
    const changed =
      command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    return {
      numAffectedRows: changed ? BigInt(count) : undefined,
      rows: Array.from(result) as R[],
    };
  }

  async *streamQuery<R>(
    query: CompiledQuery,
    chunkSize = 100,
  ): AsyncIterableIterator<QueryResult<R>> {
    const sql = this.reserved ?? this.pool;
    const cursor = sql.unsafe(query.sql, [...query.parameters] as never[]).cursor(chunkSize);
    for await (const rows of cursor) yield { rows: rows as R[] };
  }
}

/** Settles like `promise`, or rejects with DatabaseTimeoutError after `timeoutMs`. */
function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  late: (value: T) => void = () => {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(new DatabaseTimeoutError(timeoutMs));
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (expired) late(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
