import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendProblem } from './error-handler.js';
import { ServiceError } from './errors.js';

/** Routes anyone may call: liveness for master servers and orchestrators, and the API docs. */
const OPEN_PATHS = /^\/(ping|health\/(live|ready)|docs(\/.*)?)$/;

/**
 * Requires `Authorization: Bearer <key>` on every other route when keys are
 * configured. Keys are compared as SHA-256 digests in constant time, and
 * every key is tried, so the time taken says nothing about which came close.
 */
export function installServiceKeys(app: FastifyInstance, keys: string[]): void {
  if (keys.length === 0) return;
  const digests = keys.map(digest);

  app.addHook('onRequest', async (request, reply) => {
    if (OPEN_PATHS.test(pathOf(request))) return;
    const presented = bearer(request);
    let match = false;
    if (presented !== undefined) {
      const candidate = digest(presented);
      for (const known of digests) match = timingSafeEqual(candidate, known) || match;
    }
    if (match) return;
    reply.header('www-authenticate', 'Bearer realm="cso2-users-service"');
    return sendProblem(reply, missingKey(presented !== undefined));
  });
}

function missingKey(presented: boolean): ServiceError {
  const detail = presented
    ? 'the service key is not valid'
    : 'this service needs an Authorization: Bearer <service key> header';
  return new ServiceError(401, presented ? 'invalid_service_key' : 'service_key_required', detail);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

function pathOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
