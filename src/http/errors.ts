import { STATUS_CODES } from 'node:http';

/**
 * The service's one error type: every layer throws these, and one handler
 * turns them into `application/problem+json` answers (RFC 9457).
 */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    /** Stable, machine-readable reason, e.g. `user_not_found`. */
    readonly code: string,
    /** What went wrong, naming the field at fault where there is one. */
    readonly detail: string,
    /** The request field at fault, as `body.externalNet.clientPort`. */
    readonly field?: string,
  ) {
    super(detail);
    this.name = 'ServiceError';
  }
}

/** A field is missing, mistyped or out of range. */
export function invalidField(field: string, why: string): ServiceError {
  return new ServiceError(400, 'invalid_field', `${field} ${why}`, field);
}

/** The user or session asked for does not exist. */
export function notFound(what: 'user' | 'session'): ServiceError {
  return new ServiceError(404, `${what}_not_found`, `no such ${what}`);
}

/** A name is taken or the user already has a live session. */
export function conflict(code: string, detail: string, field?: string): ServiceError {
  return new ServiceError(409, code, detail, field);
}

/** A page larger than the route allows was asked for. */
export function pageTooLarge(max: number): ServiceError {
  const detail = `query.length must be at most ${max}`;
  return new ServiceError(413, 'page_too_large', detail, 'query.length');
}

/** Wrong user name or password; the answer is the same for both on purpose. */
export function wrongCredentials(): ServiceError {
  return new ServiceError(401, 'wrong_credentials', 'the user name or password is wrong');
}

/** Too many failed logins; `retryAfter` is in seconds. */
export class TooManyAttempts extends ServiceError {
  constructor(readonly retryAfter: number) {
    super(429, 'too_many_attempts', 'too many failed logins; wait before trying again');
  }
}

/** The database cannot be reached right now. */
export function databaseUnavailable(): ServiceError {
  return new ServiceError(503, 'database_unavailable', 'the database is unreachable; retry later');
}

/** The process is shutting down and takes no new requests. */
export function shuttingDown(): ServiceError {
  return new ServiceError(503, 'shutting_down', 'the service is shutting down; retry shortly');
}

/** The body of a problem+json answer. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
}

/** Renders any ServiceError as its problem body. */
export function toProblem(error: ServiceError): Problem {
  const problem: Problem = {
    type: 'about:blank',
    title: STATUS_CODES[error.status] ?? 'Error',
    status: error.status,
    detail: error.detail,
    code: error.code,
  };
  if (error.field !== undefined) problem.field = error.field;
  return problem;
}
