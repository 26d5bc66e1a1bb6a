import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';

/**
 * Kysely on better-sqlite3 with group commit. With `synchronous=FULL` every
 * commit waits for the disk, which caps one-statement transactions at a few
 * hundred a second. Here, reads run at once, while the writes that arrive in
 * one turn of the event loop are run together in one transaction; one failing
 * statement undoes only itself.
 * A write's promise settles only after that transaction is on disk, so an
 * answered write is never lost. Explicit transactions (`db.transaction()`)
 * take the database to themselves: queued writes wait until they end, and
 * reads from outside see their uncommitted rows, so use them only where no
 * other traffic runs (the migrations at start).
 */
export function sqliteDialect(database: SqliteDatabase): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new GroupCommitDriver(database),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

/**
 * Prepared statements kept for reuse. The stores issue a few dozen distinct
 * statements; preparing one costs more than running it. Past this many the
 * cache starts over, which only `in (...)` lists of many lengths could cause.
 */
const STATEMENT_CACHE_SIZE = 256;

interface QueuedWrite {
  query: CompiledQuery;
  resolve: (result: QueryResult<unknown>) => void;
  reject: (error: unknown) => void;
}

/** Owns the one SQLite connection and the queue of writes waiting for the next commit. */
class GroupCommitDriver implements Driver {
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  private transactionOwner: DatabaseConnection | undefined;
  private transactionDone: Promise<void> = Promise.resolve();
  private endTransaction = () => {};
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: SqliteDatabase) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new GroupCommitConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    while (this.transactionOwner) await this.transactionDone;
    this.flush();
    let end = () => {};
    this.transactionDone = new Promise((resolve) => {
      end = resolve;
    });
    this.transactionOwner = connection;
    this.endTransaction = end;
    this.command('begin immediate');
  }

  async commitTransaction(): Promise<void> {
    this.finishTransaction('commit');
  }

  async rollbackTransaction(): Promise<void> {
    this.finishTransaction('rollback');
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    this.flush();
    this.db.close();
  }

  /** Runs a statement now (reads, and statements of the open transaction) or queues it. */
  execute(connection: DatabaseConnection, query: CompiledQuery): Promise<QueryResult<unknown>> {
    if (this.transactionOwner === connection || SelectQueryNode.is(query.query)) {
      try {
        return Promise.resolve(this.run(query));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ query, resolve, reject });
      this.scheduleFlush();
    });
  }

  private finishTransaction(command: 'commit' | 'rollback'): void {
    try {
      this.command(command);
    } finally {
      this.transactionOwner = undefined;
      this.endTransaction();
      this.scheduleFlush();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.queue.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.transactionOwner) this.flush();
    });
  }

  /** Runs every queued write in one transaction and settles them once it is committed. */
  private flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];

    const outcomes: Array<{ result?: QueryResult<unknown>; error?: unknown }> = [];
    try {
      this.command('begin immediate');
      for (const write of batch) {
        const outcome = this.attempt(write.query);
        // A full disk or an I/O error ends the whole transaction, not just the statement.
        if (!this.db.inTransaction) throw outcome.error;
        outcomes.push(outcome);
      }
      this.command('commit');
    } catch (error) {
      if (this.db.inTransaction) this.command('rollback');
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i];
      if (outcome?.result) write.resolve(outcome.result);
      else write.reject(outcome?.error);
    });
  }

  /**
   * Runs one write of a batch. A statement that fails (a unique violation,
   * say) undoes only its own changes and leaves the transaction open: that is
   * SQLite's default ABORT conflict resolution, so no savepoint is needed.
   */
  private attempt(query: CompiledQuery): { result?: QueryResult<unknown>; error?: unknown } {
    try {
      return { result: this.run(query) };
    } catch (error) {
      return { error };
    }
  }

  /** Runs a statement without parameters or result, such as `commit`. */
  private command(sql: string): void {
    this.prepared(sql).run();
  }

  private prepared(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private run(query: CompiledQuery): QueryResult<unknown> {
    const statement = this.prepared(query.sql);
    const parameters = query.parameters as unknown[];
    if (statement.reader) return { rows: statement.all(parameters) };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return {
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    };
  }
}

/** A handle Kysely holds while it runs statements; all handles share the driver's connection. */
class GroupCommitConnection implements DatabaseConnection {
  constructor(private readonly driver: GroupCommitDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute(this, query) as Promise<QueryResult<R>>;
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on SQLite here');
  }
}
