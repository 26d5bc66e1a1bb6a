import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUnavailable } from '../db/faults.js';
import { databaseUnavailable, ServiceError, TooManyAttempts, toProblem } from './errors.js';

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/** Fastify's own request errors whose message we replace, so no body text is echoed. */
const FIXED_DETAILS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the body is larger than the service accepts',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'the body must be application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the content length does not match the body',
};

/** Installs the one place where errors become problem+json answers. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = classify(error);
    if (problem.status >= 500 && problem.status !== 503) {
      request.log.error({ err: error }, 'request failed');
    } else if (problem.status === 503) {
      request.log.warn({ code: (error as { code?: unknown }).code }, 'database unavailable');
    }
    return sendProblem(reply, problem);
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendProblem(
      reply,
      new ServiceError(404, 'route_not_found', `no route ${request.method} ${request.url}`),
    ),
  );
}

/**
 * Answers the errors fastify meets before routing: a path that is not valid
 * percent-encoded text, or a path segment past the router's length limit.
 */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path segment is longer than the service accepts'
      : 'the path is not valid percent-encoded UTF-8';
  const code = error.code.replace(/^FST_ERR_/, '').toLowerCase();
  sendProblem(reply, new ServiceError(error.statusCode ?? 400, code, detail));
}

/**
 * Answers a request that Node's HTTP parser refused (a malformed request
 * line or header, headers over the size limit) with problem+json too, then
 * closes the connection, since what follows on it cannot be trusted.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const detail =
    status === 431
      ? 'the request headers are larger than the service accepts'
      : 'the request is not valid HTTP/1.1';
  const body = JSON.stringify(toProblem(new ServiceError(status, 'malformed_request', detail)));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: ${PROBLEM_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Sends a ServiceError as problem+json, with Retry-After where it applies. */
export function sendProblem(reply: FastifyReply, error: ServiceError): FastifyReply {
  if (error instanceof TooManyAttempts) reply.header('retry-after', String(error.retryAfter));
  if (error.status === 503) reply.header('retry-after', '5');
  return reply.code(error.status).type(PROBLEM_TYPE).send(toProblem(error));
}

function classify(error: FastifyError): ServiceError {
  if (error instanceof ServiceError) return error;
  if (error.validation) return fromValidation(error);
  if (isUnavailable(error)) return databaseUnavailable();

  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = (error.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase();
    const detail = FIXED_DETAILS[error.code] ?? 'the request is malformed';
    return new ServiceError(status, code, detail);
  }
  return new ServiceError(
    500,
    'internal_error',
    'the service failed to answer; it has been logged',
  );
}

/** Names the field at fault from the first schema violation fastify found. */
function fromValidation(error: FastifyError): ServiceError {
  const [first] = error.validation ?? [];
  const context =
    error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? 'body');
  const path = (first?.instancePath ?? '').split('/').filter(Boolean);
  const params = (first?.params ?? {}) as Record<string, unknown>;
  let why = first?.message ?? 'is invalid';

  if (first?.keyword === 'required') {
    path.push(String(params.missingProperty));
    why = 'is required';
  } else if (first?.keyword === 'additionalProperties') {
    path.push(String(params.additionalProperty));
    why = 'is not a known field';
  }
  const field = [context, ...path].join('.');
  return new ServiceError(400, 'invalid_field', `${field} ${why}`, field);
}
