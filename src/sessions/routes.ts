import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { pageTooLarge } from '../http/errors.js';
import { parseCount, parseId, parseOptionalCount } from '../http/numbers.js';
import { Deleted, problems } from '../http/schemas.js';
import { MAX_LOBBY_INDEX, SESSIONS_PAGE_MAX } from '../limits.js';
import { loginRoute } from './login-route.js';
import {
  ChannelBody,
  HolePunchAnswer,
  HolePunchBody,
  OwnerParams,
  Session,
  SessionIdParams,
  SessionPatch,
  SessionQuery,
} from './schemas.js';
import type { SessionService } from './service.js';

/** The `/sessions` routes of the 2020 master servers. */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ sessions: SessionService }> = async (
  app,
  { sessions },
) => {
  const tags = ['sessions'];
  const owner = (params: { ownerId: string }) => parseId(params.ownerId, 'params.ownerId');

  await app.register(loginRoute, { sessions, path: '/sessions', tags });

  app.get(
    '/sessions',
    {
      schema: {
        tags,
        summary: 'List live sessions in owner order, optionally in one channel or room',
        querystring: SessionQuery,
        response: { 200: Type.Array(Session), ...problems(400, 413) },
      },
    },
    async (request) => {
      const { query } = request;
      const offset = parseCount(query.offset, 'query.offset', 0, Number.MAX_SAFE_INTEGER);
      const length = parseCount(query.length, 'query.length', SESSIONS_PAGE_MAX, Infinity);
      if (length > SESSIONS_PAGE_MAX) throw pageTooLarge(SESSIONS_PAGE_MAX);
      return sessions.list(offset, length, {
        channelServerIndex: lobbyFilter(query.channelServerIndex, 'query.channelServerIndex'),
        channelIndex: lobbyFilter(query.channelIndex, 'query.channelIndex'),
        roomId: lobbyFilter(query.roomId, 'query.roomId'),
      });
    },
  );

  app.delete(
    '/sessions',
    {
      schema: {
        tags,
        summary: 'Close every session (a master server does this when it starts)',
        response: { 200: Deleted, ...problems() },
      },
    },
    async () => ({ deleted: await sessions.removeAll() }),
  );

  app.get(
    '/sessions/:ownerId',
    {
      schema: {
        tags,
        summary: "Read a user's session",
        params: OwnerParams,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.get(owner(request.params)),
  );

  app.put(
    '/sessions/:ownerId',
    {
      schema: {
        tags,
        summary: 'Update part of a session; network fields merge',
        params: OwnerParams,
        body: SessionPatch,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.update(owner(request.params), request.body),
  );

  app.delete(
    '/sessions/:ownerId',
    {
      schema: {
        tags,
        summary: "Close a user's session",
        params: OwnerParams,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.remove(owner(request.params)),
  );

  app.get(
    '/sessions/by-id/:sessionId',
    {
      schema: {
        tags,
        summary: 'Read a session by its own id',
        params: SessionIdParams,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.getBySessionId(request.params.sessionId),
  );

  app.delete(
    '/sessions/by-id/:sessionId',
    {
      schema: {
        tags,
        summary: 'Close a session by its own id',
        params: SessionIdParams,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.removeBySessionId(request.params.sessionId),
  );

  app.put(
    '/sessions/:ownerId/channel',
    {
      schema: {
        tags,
        summary: 'Move the player to a channel server and channel',
        params: OwnerParams,
        body: ChannelBody,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => {
      const { channelServerIndex, channelIndex } = request.body;
      return sessions.changeChannel(owner(request.params), channelServerIndex, channelIndex);
    },
  );

  app.post(
    '/sessions/:ownerId/holepunch',
    {
      schema: {
        tags,
        summary: 'Record the local and external port of one of the client sockets',
        params: OwnerParams,
        body: HolePunchBody,
        response: { 200: HolePunchAnswer, ...problems(400, 404) },
      },
    },
    async (request) => {
      const { portId, localPort, externalPort } = request.body;
      return sessions.holePunch(owner(request.params), portId, localPort, externalPort);
    },
  );

  app.post(
    '/sessions/:ownerId/heartbeat',
    {
      schema: {
        tags,
        summary: 'Mark a quiet session as still in use',
        params: OwnerParams,
        response: { 200: Session, ...problems(400, 404) },
      },
    },
    async (request) => sessions.heartbeat(owner(request.params)),
  );
};

function lobbyFilter(text: string | undefined, field: string): number | undefined {
  return parseOptionalCount(text, field, MAX_LOBBY_INDEX);
}
