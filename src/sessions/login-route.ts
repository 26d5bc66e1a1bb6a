import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { problems } from '../http/schemas.js';
import { Credentials } from '../users/schemas.js';
import { Session } from './schemas.js';
import type { SessionService } from './service.js';

/** Where a generation of master servers sends its logins, and its OpenAPI tags. */
export interface LoginRouteOptions {
  sessions: SessionService;
  path: '/sessions' | '/users/session';
  tags: string[];
}

/** A login that opens the user's session; both generations send the same body. */
export const loginRoute: FastifyPluginAsyncTypebox<LoginRouteOptions> = async (
  app,
  { sessions, path, tags },
) => {
  app.post(
    path,
    {
      schema: {
        tags,
        summary: 'Log a user in and open their session',
        body: Credentials,
        response: { 201: Session, ...problems(400, 401, 409, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const session = await sessions.login(username, password, request.ip);
      return reply.code(201).send(session);
    },
  );
};
