import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  call,
  ENGINE,
  expectProblem,
  signUpAndLogIn,
  snapshot,
  startApp,
  type TestApp,
} from './helpers.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The ids a case's URL and body may use: a user with a live session. */
interface Ids {
  owner: number;
}

/** One malformed request and the problem it must get. */
interface Case {
  method: Method;
  /** The route as API.md writes it, for the test name. */
  route: string;
  url: (ids: Ids) => string;
  /** A JSON value to send, or raw text with its content type. */
  body?: (ids: Ids) => unknown;
  raw?: { payload: string; contentType: string };
  status: number;
  /** The field the problem's detail must name. */
  field: string;
  why: string;
}

/** The routes that read a JSON body, with a valid body for each. */
const BODY_ROUTES: { method: Method; route: string; url: (ids: Ids) => string }[] = [
  { method: 'POST', route: '/users', url: () => '/users' },
  { method: 'PUT', route: '/users/:userId', url: ({ owner }) => `/users/${owner}` },
  { method: 'POST', route: '/users/auth/validate', url: () => '/users/auth/validate' },
  { method: 'POST', route: '/sessions', url: () => '/sessions' },
  { method: 'PUT', route: '/sessions/:ownerId', url: ({ owner }) => `/sessions/${owner}` },
  {
    method: 'PUT',
    route: '/sessions/:ownerId/channel',
    url: ({ owner }) => `/sessions/${owner}/channel`,
  },
  {
    method: 'POST',
    route: '/sessions/:ownerId/holepunch',
    url: ({ owner }) => `/sessions/${owner}/holepunch`,
  },
  { method: 'POST', route: '/users/session', url: () => '/users/session' },
  { method: 'GET', route: '/users/session', url: () => '/users/session' },
  { method: 'PUT', route: '/users/session', url: () => '/users/session' },
  { method: 'DELETE', route: '/users/session', url: () => '/users/session' },
];

/** Bodies that are not a JSON object of the right type, whatever the route. */
const BAD_BODIES: { raw: Case['raw']; status: number; why: string }[] = [
  {
    raw: { payload: '{"password":"hunter22", "username":', contentType: 'application/json' },
    status: 400,
    why: 'the body is invalid JSON',
  },
  {
    raw: { payload: '', contentType: 'application/json' },
    status: 400,
    why: 'the JSON body is empty',
  },
  {
    raw: { payload: '[1, 2]', contentType: 'application/json' },
    status: 400,
    why: 'the JSON body is an array',
  },
  {
    raw: { payload: '<user id="1"/>', contentType: 'application/xml' },
    status: 415,
    why: 'the content type is XML',
  },
  {
    raw: { payload: 'username=a&password=b', contentType: 'application/x-www-form-urlencoded' },
    status: 415,
    why: 'the content type is a web form',
  },
];

/** Path ids that are not positive integers up to 2^31-1. */
const BAD_IDS = ['0', '-5', 'abc', '1.5', '1e3', '0x10', '2147483648', '99999999999'];

const ID_ROUTES: { method: Method; route: string; path: (id: string) => string; field: string }[] =
  [
    { method: 'GET', route: '/users/:userId', path: (id) => `/users/${id}`, field: 'userId' },
    { method: 'DELETE', route: '/users/:userId', path: (id) => `/users/${id}`, field: 'userId' },
    {
      method: 'GET',
      route: '/sessions/:ownerId',
      path: (id) => `/sessions/${id}`,
      field: 'ownerId',
    },
    {
      method: 'DELETE',
      route: '/sessions/:ownerId',
      path: (id) => `/sessions/${id}`,
      field: 'ownerId',
    },
  ];

function fieldCases(): Case[] {
  const signUp = { username: 'fresh1', playername: 'Fresh One', password: 'secret-1' };
  const login = { username: 'fresh1', password: 'secret-1' };
  const owner = ({ owner }: Ids) => `/sessions/${owner}`;
  const put = (route: string, url: Case['url']) => ({ method: 'PUT' as const, route, url });
  const post = (route: string, url: Case['url']) => ({ method: 'POST' as const, route, url });
  const users = post('/users', () => '/users');
  const profile = put('/users/:userId', ({ owner }) => `/users/${owner}`);
  const validate = post('/users/auth/validate', () => '/users/auth/validate');
  const sessions = post('/sessions', () => '/sessions');
  const session = put('/sessions/:ownerId', owner);
  const channel = put('/sessions/:ownerId/channel', (ids) => `${owner(ids)}/channel`);
  const punch = post('/sessions/:ownerId/holepunch', (ids) => `${owner(ids)}/holepunch`);
  const legacy = put('/users/session', () => '/users/session');
  const legacyGet = {
    method: 'GET' as const,
    route: '/users/session',
    url: () => '/users/session',
  };
  const at = (ids: Ids) => ids.owner;

  const cases: Omit<Case, 'status'>[] = [
    {
      ...users,
      body: () => ({ ...signUp, username: 12345 }),
      field: 'body.username',
      why: 'a mistyped field',
    },
    {
      ...users,
      body: () => ({ username: 'fresh1', password: 'secret-1' }),
      field: 'body.playername',
      why: 'a missing field',
    },
    {
      ...users,
      body: () => ({ ...signUp, admin: true }),
      field: 'body.admin',
      why: 'an extra field',
    },
    {
      ...profile,
      body: () => ({ wins: 5, level: '5' }),
      field: 'body.level',
      why: 'a mistyped field',
    },
    {
      ...profile,
      body: () => ({ wins: 5, isAdmin: true }),
      field: 'body.isAdmin',
      why: 'an extra field',
    },
    {
      ...profile,
      body: () => ({ wins: 5, deaths: null }),
      field: 'body.deaths',
      why: 'a null field',
    },
    {
      ...validate,
      body: () => ({ ...login, password: 123456 }),
      field: 'body.password',
      why: 'a mistyped field',
    },
    {
      ...validate,
      body: () => ({ password: 'secret-1' }),
      field: 'body.username',
      why: 'a missing field',
    },
    { ...validate, body: () => ({ ...login, otp: '1' }), field: 'body.otp', why: 'an extra field' },
    {
      ...sessions,
      body: () => ({ ...login, password: true }),
      field: 'body.password',
      why: 'a mistyped field',
    },
    {
      ...sessions,
      body: () => ({ username: 'fresh1' }),
      field: 'body.password',
      why: 'a missing field',
    },
    {
      ...sessions,
      body: () => ({ ...login, remember: true }),
      field: 'body.remember',
      why: 'an extra field',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, currentChannelIndex: '1' }),
      field: 'body.currentChannelIndex',
      why: 'a mistyped field',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, externalNet: 'x' }),
      field: 'body.externalNet',
      why: 'a mistyped record',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, room: 1 }),
      field: 'body.room',
      why: 'an extra field',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, internalNet: { mask: 8 } }),
      field: 'body.internalNet.mask',
      why: 'an extra network field',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, externalNet: { clientPort: 65536 } }),
      field: 'body.externalNet.clientPort',
      why: 'port 65536',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, internalNet: { tvPort: -1 } }),
      field: 'body.internalNet.tvPort',
      why: 'port -1',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, internalNet: { serverPort: 1.5 } }),
      field: 'body.internalNet.serverPort',
      why: 'port 1.5',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, externalNet: { ipAddress: '999.1.1.1' } }),
      field: 'body.externalNet.ipAddress',
      why: 'IP 999.1.1.1',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, externalNet: { ipAddress: '1.2.3' } }),
      field: 'body.externalNet.ipAddress',
      why: 'IP 1.2.3',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, internalNet: { ipAddress: '' } }),
      field: 'body.internalNet.ipAddress',
      why: 'an empty IP',
    },
    {
      ...session,
      body: () => ({ currentRoomId: 5, internalNet: { ipAddress: 'gameserver' } }),
      field: 'body.internalNet.ipAddress',
      why: 'a host name as IP',
    },
    {
      ...channel,
      body: () => ({ channelServerIndex: 1 }),
      field: 'body.channelIndex',
      why: 'a missing field',
    },
    {
      ...channel,
      body: () => ({ channelServerIndex: '1', channelIndex: 1 }),
      field: 'body.channelServerIndex',
      why: 'a mistyped field',
    },
    {
      ...channel,
      body: () => ({ channelServerIndex: 1, channelIndex: 1, roomId: 1 }),
      field: 'body.roomId',
      why: 'an extra field',
    },
    {
      ...punch,
      body: () => ({ portId: 0, localPort: 1 }),
      field: 'body.externalPort',
      why: 'a missing field',
    },
    {
      ...punch,
      body: () => ({ portId: '0', localPort: 1, externalPort: 2 }),
      field: 'body.portId',
      why: 'a mistyped field',
    },
    {
      ...punch,
      body: () => ({ portId: 0, localPort: 70000, externalPort: 2 }),
      field: 'body.localPort',
      why: 'port 70000',
    },
    {
      ...punch,
      body: () => ({ portId: 0, localPort: 1, externalPort: 2, ip: '1.1.1.1' }),
      field: 'body.ip',
      why: 'an extra field',
    },
    { ...legacy, body: () => ({ currentRoomId: 5 }), field: 'body.userId', why: 'a missing owner' },
    {
      ...legacy,
      body: (ids) => ({ userId: String(at(ids)), currentRoomId: 5 }),
      field: 'body.userId',
      why: 'a mistyped owner',
    },
    {
      ...legacy,
      body: (ids) => ({ userId: at(ids), currentRoomId: 5, externalNet: { tvPort: 65536 } }),
      field: 'body.externalNet.tvPort',
      why: 'port 65536',
    },
    {
      ...legacy,
      body: (ids) => ({
        userId: at(ids),
        currentRoomId: 5,
        internalNet: { ipAddress: '300.0.0.1' },
      }),
      field: 'body.internalNet.ipAddress',
      why: 'IP 300.0.0.1',
    },
    {
      ...legacyGet,
      body: () => ({ userId: 1.5 }),
      field: 'body.userId',
      why: 'a fractional owner',
    },
    {
      ...legacyGet,
      body: () => ({ userId: 1, sessionId: 'x' }),
      field: 'body.sessionId',
      why: 'an extra field',
    },
    {
      method: 'DELETE',
      route: '/users/session',
      url: () => '/users/session',
      body: () => ({ userId: -1 }),
      field: 'body.userId',
      why: 'a negative owner',
    },
    {
      method: 'GET',
      route: '/users',
      url: () => '/users?length=ten',
      field: 'query.length',
      why: 'a length that is not a number',
    },
    {
      method: 'GET',
      route: '/sessions',
      url: () => '/sessions?offset=-1',
      field: 'query.offset',
      why: 'a negative offset',
    },
    {
      method: 'GET',
      route: '/sessions/by-id/:sessionId',
      url: () => '/sessions/by-id/1234',
      field: 'params.sessionId',
      why: 'an id that is not a uuid',
    },
  ];
  return cases.map((entry) => ({ ...entry, status: 400 }));
}

function allCases(): Case[] {
  const cases: Case[] = [];
  for (const route of BODY_ROUTES) {
    for (const bad of BAD_BODIES) {
      cases.push({ ...route, raw: bad.raw, status: bad.status, field: 'body', why: bad.why });
    }
  }
  cases.push(...fieldCases());
  for (const route of ID_ROUTES) {
    for (const id of BAD_IDS) {
      cases.push({
        method: route.method,
        route: route.route,
        url: () => route.path(id),
        status: 400,
        field: `params.${route.field}`,
        why: `the id is '${id}'`,
      });
    }
  }
  const updates = [
    ['/users/:userId', (id: string) => `/users/${id}`, 'userId', { wins: 1 }],
    ['/sessions/:ownerId', (id: string) => `/sessions/${id}`, 'ownerId', { currentRoomId: 1 }],
    [
      '/sessions/:ownerId/channel',
      (id: string) => `/sessions/${id}/channel`,
      'ownerId',
      { channelServerIndex: 1, channelIndex: 1 },
    ],
  ] as const;
  for (const [route, path, field, body] of updates) {
    cases.push({
      method: 'PUT',
      route,
      url: () => path('0'),
      body: () => body,
      status: 400,
      field: `params.${field}`,
      why: "the id is '0'",
    });
  }
  return cases;
}

describe(`malformed requests (${ENGINE})`, () => {
  let t: TestApp;
  let ids: Ids;
  before(async () => {
    t = await startApp();
    const { user } = await signUpAndLogIn(t.app);
    ids = { owner: user.userId };
  });
  after(() => t.close());

  for (const entry of allCases()) {
    const outcome = `answer ${entry.status} naming ${entry.field} and change nothing`;
    const condition = `${entry.method} ${entry.route} gets ${entry.why}`;
    const name = `should ${outcome} when ${condition}`;
    it(name, async () => {
      const before = await snapshot(t.database.storage);
      const url = entry.url(ids);

      const response = entry.raw
        ? await t.app.inject({
            method: entry.method,
            url,
            headers: { 'content-type': entry.raw.contentType },
            payload: entry.raw.payload,
          })
        : await call(t.app, entry.method, url, entry.body?.(ids));

      expectProblem(response, entry.status, entry.field);
      assert.ok(!response.body.includes('hunter22'), 'the problem echoes the body');
      assert.equal(await snapshot(t.database.storage), before);
    });
  }

  it('should answer 413 and change nothing when the body is over the size limit', async () => {
    const before = await snapshot(t.database.storage);
    const response = await call(t.app, 'PUT', `/sessions/${ids.owner}`, {
      currentRoomId: 5,
      padding: 'x'.repeat(64 * 1_024),
    });
    expectProblem(response, 413, 'body');
    assert.equal(await snapshot(t.database.storage), before);
  });

  it('should refuse a JSON body sent as text/plain', async () => {
    const before = await snapshot(t.database.storage);
    const response = await t.app.inject({
      method: 'POST',
      url: '/users',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ username: 'plain1', playername: 'Plain', password: 'secret-1' }),
    });
    assert.ok([400, 415].includes(response.statusCode), `answered ${response.statusCode}`);
    expectProblem(response, response.statusCode, 'body');
    assert.equal(await snapshot(t.database.storage), before);
  });

  describe('JSON bodies', () => {
    /** A sign-up as raw bytes, with the headers of the case. */
    function rawSignUp(payload: Buffer | string, headers: Record<string, string>) {
      return t.app.inject({ method: 'POST', url: '/users', headers, payload });
    }

    it('should read an empty body with a JSON content type as no body', async () => {
      const headers = { 'content-type': 'application/json' };
      for (const url of ['/ping', '/users', `/sessions/${ids.owner}`, '/health/live']) {
        const response = await t.app.inject({ method: 'GET', url, headers });
        assert.equal(response.statusCode, 200, `GET ${url}: ${response.body}`);
      }
      const beat = await t.app.inject({
        method: 'POST',
        url: `/sessions/${ids.owner}/heartbeat`,
        headers,
      });
      assert.equal(beat.statusCode, 200, beat.body);
    });

    it('should answer 400 naming the body when a route needing one gets an empty one', async () => {
      const before = await snapshot(t.database.storage);
      for (const method of ['GET', 'DELETE'] as const) {
        const response = await t.app.inject({
          method,
          url: '/users/session',
          headers: { 'content-type': 'application/json' },
        });
        expectProblem(response, 400, 'body');
      }
      assert.equal(await snapshot(t.database.storage), before);
    });

    it('should answer 415 and store nothing when the body is in another charset', async () => {
      const before = await snapshot(t.database.storage);
      const latin1 = Buffer.from(
        '{"username":"latin1","playername":"Jos\u00e9","password":"secret-1"}',
        'latin1',
      );
      const response = await rawSignUp(latin1, {
        'content-type': 'application/json; charset=iso-8859-1',
      });
      expectProblem(response, 415, 'UTF-8');
      assert.equal(await snapshot(t.database.storage), before);
    });

    it('should answer 415 and store nothing when the content type is malformed', async () => {
      const before = await snapshot(t.database.storage);
      const body = JSON.stringify({
        username: 'ctype1',
        playername: 'Ctype',
        password: 'secret-1',
      });
      const response = await rawSignUp(body, { 'content-type': 'application/json; charset' });
      expectProblem(response, 415, 'content type');
      assert.equal(await snapshot(t.database.storage), before);
    });

    it('should answer 400 and store nothing when the bytes are not UTF-8', async () => {
      const before = await snapshot(t.database.storage);
      const bytes = Buffer.concat([
        Buffer.from('{"username":"badutf8","playername":"Jos'),
        Buffer.from([0xe9]),
        Buffer.from('","password":"secret-1"}'),
      ]);
      const response = await rawSignUp(bytes, { 'content-type': 'application/json' });
      expectProblem(response, 400, 'UTF-8');
      assert.equal(await snapshot(t.database.storage), before);
    });

    it('should answer 415 and store nothing when the body says it is compressed', async () => {
      const before = await snapshot(t.database.storage);
      const body = JSON.stringify({ username: 'gzip1', playername: 'Gzip', password: 'secret-1' });
      const response = await rawSignUp(body, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expectProblem(response, 415, 'compressed');
      assert.equal(await snapshot(t.database.storage), before);
    });

    it('should name the prototype key when a body holds __proto__', async () => {
      const response = await rawSignUp('{"__proto__":{"admin":true}}', {
        'content-type': 'application/json',
      });
      expectProblem(response, 400, '__proto__');
    });

    it('should answer 400 problem+json when the path is not valid percent-encoding', async () => {
      for (const url of ['/users/%ff', '/users/byname/%ff', '/sessions/%e0%80']) {
        expectProblem(await t.app.inject({ method: 'GET', url }), 400, 'path');
      }
    });
  });
});
