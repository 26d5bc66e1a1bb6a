import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import type { Storage } from '../db/dialect.js';
import { databaseUnavailable } from '../http/errors.js';
import { problems } from '../http/schemas.js';
import type { SessionService } from '../sessions/service.js';

interface HealthOptions {
  sessions: SessionService;
  storage: Storage;
  metrics: Registry;
  startedAt: number;
}

const Ping = Type.Object({
  sessions: Type.Integer({ description: 'live sessions' }),
  uptime: Type.Integer({ description: 'seconds since the process started' }),
});
const Health = Type.Object({ status: Type.String() });

/** `/ping` for master servers, `/health/*` for orchestrators, `/metrics` for Prometheus. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, options) => {
  const tags = ['health'];

  // While the database is unreachable /ping answers 503 problem+json
  // (database_unavailable, Retry-After: 5): master servers poll it to decide
  // whether the service is up, and no login can succeed then. /health/live
  // stays 200, so an orchestrator does not restart a process that will
  // recover by itself when the database returns.
  app.get(
    '/ping',
    {
      schema: {
        tags,
        summary: 'Live sessions and uptime; 503 while the database is unreachable',
        response: { 200: Ping, ...problems() },
      },
    },
    async () => ({
      sessions: await options.sessions.count(),
      uptime: Math.floor((Date.now() - options.startedAt) / 1_000),
    }),
  );

  app.get(
    '/health/live',
    { schema: { tags, summary: 'The process answers', response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags,
        summary: 'The database answers; 503 otherwise',
        response: { 200: Health, ...problems() },
      },
    },
    async () => {
      await options.storage.ping().catch(() => {
        throw databaseUnavailable();
      });
      return { status: 'ok' };
    },
  );

  app.get(
    '/metrics',
    { schema: { tags, summary: 'Prometheus metrics' } },
    async (_request, reply) => {
      reply.type(options.metrics.contentType);
      return options.metrics.metrics();
    },
  );
};
