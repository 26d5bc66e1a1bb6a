/** SQLSTATE of a unique-constraint violation on PostgreSQL. */
const PG_UNIQUE_VIOLATION = '23505';

/** SQLSTATE of a foreign-key violation on PostgreSQL. */
const PG_FOREIGN_KEY_VIOLATION = '23503';

/** SQLSTATE classes meaning the server went away or is starting or stopping. */
const PG_UNAVAILABLE = /^(08|57P0[1-3]|53300)/;

/** postgres.js error codes for a connection that could not be made or was lost. */
const POSTGRES_JS_CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  // Raised by our PostgreSQL driver when a statement outlives DATABASE_TIMEOUT_MS.
  'DATABASE_TIMEOUT',
]);

interface DriverError {
  code?: unknown;
  constraint_name?: unknown;
  message?: unknown;
}

/**
 * The name of the unique constraint a write broke, or undefined if the error
 * is something else. SQLite names the columns; PostgreSQL names the constraint.
 */
export function uniqueViolation(error: unknown): string | undefined {
  const { code, constraint_name: constraint, message } = (error ?? {}) as DriverError;
  if (code === PG_UNIQUE_VIOLATION) return String(constraint ?? '');
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return String(message ?? '');
  }
  return undefined;
}

/** Whether a write referred to a row that is gone, such as a session for a deleted user. */
export function isForeignKeyViolation(error: unknown): boolean {
  const { code } = (error ?? {}) as DriverError;
  return code === PG_FOREIGN_KEY_VIOLATION || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** Whether an error means the database is unreachable or busy, not that the query is wrong. */
export function isUnavailable(error: unknown): boolean {
  const { code } = (error ?? {}) as DriverError;
  if (typeof code !== 'string') return false;
  return (
    POSTGRES_JS_CONNECTION_CODES.has(code) ||
    PG_UNAVAILABLE.test(code) ||
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_LOCKED'
  );
}
