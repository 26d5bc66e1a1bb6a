import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { pageTooLarge } from '../http/errors.js';
import { parseCount, parseId } from '../http/numbers.js';
import { Deleted, problems } from '../http/schemas.js';
import { USERS_PAGE_MAX } from '../limits.js';
import {
  Credentials,
  PageQuery,
  SignUpBody,
  User,
  UserIdAnswer,
  UserIdParams,
  UserNameParams,
  UserSummary,
  UserUpdateBody,
} from './schemas.js';
import type { UserService } from './service.js';

/** The `/users` routes: sign-up, look-ups, profile updates and credential checks. */
export const userRoutes: FastifyPluginAsyncTypebox<{ users: UserService }> = async (
  app,
  { users },
) => {
  const tags = ['users'];

  app.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Sign up a new user',
        body: SignUpBody,
        response: { 201: UserIdAnswer, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const userId = await users.signUp(request.body);
      return reply.code(201).send({ userId });
    },
  );

  app.get(
    '/users',
    {
      schema: {
        tags,
        summary: 'List users in id order',
        querystring: PageQuery,
        response: { 200: Type.Array(UserSummary), ...problems(400, 413) },
      },
    },
    async (request) => {
      const offset = parseCount(request.query.offset, 'query.offset', 0, Number.MAX_SAFE_INTEGER);
      const length = parseCount(request.query.length, 'query.length', USERS_PAGE_MAX, Infinity);
      if (length > USERS_PAGE_MAX) throw pageTooLarge(USERS_PAGE_MAX);
      return users.list(offset, length);
    },
  );

  app.get(
    '/users/:userId',
    {
      schema: {
        tags,
        summary: 'Read a user',
        params: UserIdParams,
        response: { 200: User, ...problems(400, 404) },
      },
    },
    async (request) => users.get(parseId(request.params.userId, 'params.userId')),
  );

  app.get(
    '/users/byname/:username',
    {
      schema: {
        tags,
        summary: 'Read a user by login name, without regard to case',
        params: UserNameParams,
        response: { 200: User, ...problems(400, 404) },
      },
    },
    async (request) => users.getByName(request.params.username),
  );

  app.put(
    '/users/:userId',
    {
      schema: {
        tags,
        summary: 'Update part of a profile, or the password',
        params: UserIdParams,
        body: UserUpdateBody,
        response: { 200: User, ...problems(400, 404, 409) },
      },
    },
    async (request) => users.update(parseId(request.params.userId, 'params.userId'), request.body),
  );

  app.delete(
    '/users/:userId',
    {
      schema: {
        tags,
        summary: 'Delete a user and their session',
        params: UserIdParams,
        response: { 200: Deleted, ...problems(400, 404) },
      },
    },
    async (request) => {
      await users.remove(parseId(request.params.userId, 'params.userId'));
      return { deleted: 1 };
    },
  );

  app.post(
    '/users/auth/validate',
    {
      schema: {
        tags,
        summary: 'Check a user name and password',
        body: Credentials,
        response: { 200: UserIdAnswer, ...problems(400, 401, 429) },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      return { userId: await users.authenticate(username, password, request.ip) };
    },
  );
};
