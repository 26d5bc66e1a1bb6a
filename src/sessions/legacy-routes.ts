import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { problems } from '../http/schemas.js';
import { loginRoute } from './login-route.js';
import { LegacyOwnerBody, LegacySessionPatch, Session } from './schemas.js';
import type { SessionService } from './service.js';

/**
 * `/users/session`, as the 2019 master servers call it: the owner's id travels
 * in a JSON body, on GET and DELETE too. The app registers GET as a method
 * with a body so that fastify reads and validates it.
 */
export const legacySessionRoutes: FastifyPluginAsyncTypebox<{ sessions: SessionService }> = async (
  app,
  { sessions },
) => {
  const tags = ['sessions (2019)'];

  await app.register(loginRoute, { sessions, path: '/users/session', tags });

  app.get(
    '/users/session',
    {
      // A HEAD twin would be a body-less GET, which has no owner to read.
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: "Read a user's session; the body names the owner",
        body: LegacyOwnerBody,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.get(request.body.userId),
  );

  app.put(
    '/users/session',
    {
      schema: {
        tags,
        summary: "Update part of a user's session; the body names the owner",
        body: LegacySessionPatch,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.update(request.body.userId, request.body),
  );

  app.delete(
    '/users/session',
    {
      schema: {
        tags,
        summary: "Close a user's session; the body names the owner",
        body: LegacyOwnerBody,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.remove(request.body.userId),
  );
};
