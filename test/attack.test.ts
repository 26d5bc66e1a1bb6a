import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { BODY_LIMIT_BYTES, PASSWORD_MAX_LENGTH } from '../src/limits.js';
import { hashPassword } from '../src/users/passwords.js';
import {
  call,
  ENGINE,
  signUp,
  signUpAndLogIn,
  snapshot,
  startApp,
  type TestApp,
} from './helpers.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Body = Record<string, unknown>;

/** One hostile request: a JSON value, or raw text sent as `application/json`. */
interface Attack {
  name: string;
  url: string;
  body?: unknown;
  raw?: string;
}

/** A route of API.md with a request it would accept, to be spoiled one way at a time. */
interface RouteCase {
  method: Method;
  /** The route as API.md writes it, for test names. */
  route: string;
  url: string;
  body?: Body;
  /** Fields that must be present. */
  required?: string[];
  /** Fields where any text is fine (a player name, a password): no SQL-text attack. */
  freeText?: string[];
  /** Fields taken as opaque secrets: no control-character attack either. */
  opaque?: string[];
  /** Path texts to put in place of the id (or name, or uuid) of the route. */
  badIds?: { template: (id: string) => string; values: string[] };
  /** Query strings to try instead of none. */
  badQueries?: string[];
}

const MALFORMED_JSON = [
  '{',
  '{"username":}',
  '{"a":1,}',
  "{'username':'a'}",
  '[1,2',
  'nul',
  '{}}',
  '{"a":"\\x41"}',
  '"unterminated',
  '\u0000{}',
];

const PROTO_BODIES = [
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '{"externalNet":{"__proto__":{"clientPort":1}}}',
  '{"a":[{"__proto__":{}}]}',
];

const CONTROL_TEXTS = [
  'a\u0000b',
  'bell\u0007',
  'zero\u200bwidth',
  '\u202eevil',
  '\ufeffbom',
  'lone\ud800',
  'line\u2028sep',
  'tab\there',
  '\u3164',
];

const SQL_TEXTS = [
  "' OR '1'='1",
  'x"; DROP TABLE users; --',
  '1); DELETE FROM sessions; --',
  "admin'--",
];

const HUGE_AND_NEGATIVE = [-1, -2_147_483_648, 2_147_483_648, 2 ** 53, 1e308, 1.5, -0.5, 65_536];

/** Ids that are not plain positive 32-bit integers. */
const BAD_IDS = [
  '0',
  '-1',
  '1e1',
  '0x10',
  '%2016',
  '16%20',
  '16.0',
  '+16',
  '016',
  '2147483648',
  '4294967296',
  '99999999999',
  'abc',
  '1%00',
  "1'%20OR%20'1'='1",
  '%F0%9F%98%80',
  '%E2%80%8B1',
  '1,2',
  'null',
];

const BAD_UUIDS = [
  'not-a-uuid',
  '00000000-0000-0000-0000-00000000000g',
  "00000000-0000-0000-0000-000000000000'%20OR%20'1'='1",
  '%00',
  '0'.repeat(64),
];

const BAD_PAGES = [
  'offset=-1',
  'offset=1e1',
  'offset=0x10',
  'offset=%201',
  'offset=1.0',
  'offset=99999999999',
  'length=abc',
  'length=1&length=2',
  'length=1;DROP%20TABLE%20users',
  'length=99999999999',
];

/** Bodies and paths that a route must refuse, each spoiling its valid request one way. */
function attacksOn(route: RouteCase): Attack[] {
  const attacks: Attack[] = MALFORMED_JSON.map((raw) => ({
    name: `malformed JSON ${JSON.stringify(raw)}`,
    url: route.url,
    raw,
  }));
  if (route.body) attacks.push({ name: 'an empty JSON body', url: route.url, raw: '' });
  if (route.badIds) {
    for (const value of route.badIds.values) {
      attacks.push({
        name: `path ${JSON.stringify(value)}`,
        url: route.badIds.template(value),
        body: route.body,
      });
    }
  }
  for (const query of route.badQueries ?? []) {
    attacks.push({ name: `query ${query}`, url: `${route.url}?${query}` });
  }
  if (route.body) attacks.push(...bodyAttacks(route, route.body));
  return attacks;
}

function bodyAttacks(route: RouteCase, valid: Body): Attack[] {
  const attacks: Attack[] = [];
  const add = (name: string, body: unknown) => attacks.push({ name, url: route.url, body });
  const raw = (name: string, text: string) => attacks.push({ name, url: route.url, raw: text });

  for (const text of PROTO_BODIES) raw(`prototype key ${text}`, text);
  raw('__proto__ beside valid fields', `{"__proto__":{"x":1},${JSON.stringify(valid).slice(1)}`);
  add('a constructor field', { ...valid, constructor: 1 });
  for (const extra of ['unknownField', 'passwordHash', 'isAdmin', 'userNameKey']) {
    add(`extra field ${extra}`, { ...valid, [extra]: 1 });
  }
  add('an array instead of an object', [valid]);
  add('a string instead of an object', 'body');
  add('null instead of an object', null);
  raw(
    'a body over the size limit',
    JSON.stringify({ ...valid, padding: 'x'.repeat(BODY_LIMIT_BYTES) }),
  );

  for (const field of route.required ?? []) {
    const { [field]: _, ...rest } = valid;
    add(`missing ${field}`, rest);
  }
  for (const [field, value] of Object.entries(valid)) {
    for (const wrong of wrongTypes(value)) {
      add(`${field} as ${JSON.stringify(wrong)}`, { ...valid, [field]: wrong });
    }
    if (typeof value === 'number') {
      for (const number of HUGE_AND_NEGATIVE) {
        add(`${field} = ${number}`, { ...valid, [field]: number });
      }
    }
    if (typeof value === 'string') {
      add(`${field} of 2000 characters`, { ...valid, [field]: 'x'.repeat(2_000) });
      if (!route.opaque?.includes(field)) {
        for (const text of CONTROL_TEXTS) {
          add(`${field} = ${JSON.stringify(text)}`, { ...valid, [field]: text });
        }
      }
      if (!route.freeText?.includes(field)) {
        for (const text of SQL_TEXTS) add(`${field} = ${text}`, { ...valid, [field]: text });
      }
    }
  }
  return attacks;
}

function wrongTypes(value: unknown): unknown[] {
  if (typeof value === 'number') return [String(value), null, true, [value], {}, `${value}.0`];
  if (typeof value === 'string') return [1, null, true, [value], {}];
  return ['text', 1, null, true, []];
}

function send(t: TestApp, method: Method, attack: Attack): Promise<LightMyRequestResponse> {
  if (attack.raw === undefined) return call(t.app, method, attack.url, attack.body);
  return t.app.inject({
    method,
    url: attack.url,
    headers: { 'content-type': 'application/json' },
    payload: attack.raw,
  });
}

function assertRefused(response: LightMyRequestResponse, what: string): void {
  const { statusCode } = response;
  assert.ok(statusCode >= 400 && statusCode < 500, `${what}: ${statusCode} ${response.body}`);
  assert.match(
    String(response.headers['content-type']),
    /^application\/problem\+json/,
    `${what}: ${response.headers['content-type']}`,
  );
  const problem = response.json();
  assert.equal(problem.status, statusCode, what);
  assert.equal(typeof problem.title, 'string', what);
  assert.equal(typeof problem.detail, 'string', what);
}

describe(`attacks on every route (${ENGINE})`, () => {
  let t: TestApp;
  let routes: RouteCase[];

  before(async () => {
    // A high limit, so that hostile logins reach the password check instead of a 429.
    t = await startApp({ loginMaxFailures: 1_000 });
    const { user: owner, session } = await signUpAndLogIn(t.app);
    const guest = await signUp(t.app);
    const id = String(owner.userId);
    const credentials = { username: guest.username, password: guest.password };
    const byId = (template: (value: string) => string) => ({ template, values: BAD_IDS });
    const net = { ipAddress: '10.0.0.7', clientPort: 27_015 };

    routes = [
      {
        method: 'POST',
        route: '/users',
        url: '/users',
        body: { username: 'attacker1', playername: 'Attacker', password: 'attack-pw' },
        required: ['username', 'playername', 'password'],
        freeText: ['playername', 'password'],
        opaque: ['password'],
      },
      { method: 'GET', route: '/users', url: '/users', badQueries: [...BAD_PAGES, 'length=101'] },
      {
        method: 'GET',
        route: '/users/:userId',
        url: `/users/${id}`,
        badIds: byId((v) => `/users/${v}`),
      },
      {
        method: 'GET',
        route: '/users/byname/:username',
        url: `/users/byname/${owner.username}`,
        badIds: {
          template: (v) => `/users/byname/${v}`,
          values: ['a%00b', '%07bell', 'zero%E2%80%8Bwidth', "x'%20OR%20'1'='1", 'x'.repeat(65)],
        },
      },
      {
        method: 'PUT',
        route: '/users/:userId',
        url: `/users/${id}`,
        body: { userName: owner.username, level: 50 },
        badIds: byId((v) => `/users/${v}`),
      },
      {
        method: 'DELETE',
        route: '/users/:userId',
        url: `/users/${id}`,
        badIds: byId((v) => `/users/${v}`),
      },
      {
        method: 'POST',
        route: '/users/auth/validate',
        url: '/users/auth/validate',
        body: credentials,
        required: ['username', 'password'],
      },
      {
        method: 'POST',
        route: '/sessions',
        url: '/sessions',
        body: credentials,
        required: ['username', 'password'],
      },
      {
        method: 'GET',
        route: '/sessions',
        url: '/sessions',
        badQueries: [
          ...BAD_PAGES,
          'length=26',
          'channelServerIndex=65536',
          'channelIndex=-1',
          'roomId=1e1',
          'roomId=0%20OR%201=1',
        ],
      },
      { method: 'DELETE', route: '/sessions', url: '/sessions' },
      {
        method: 'GET',
        route: '/sessions/:ownerId',
        url: `/sessions/${id}`,
        badIds: byId((v) => `/sessions/${v}`),
      },
      {
        method: 'PUT',
        route: '/sessions/:ownerId',
        url: `/sessions/${id}`,
        body: { currentRoomId: 7, externalNet: net, internalNet: net },
        badIds: byId((v) => `/sessions/${v}`),
      },
      {
        method: 'DELETE',
        route: '/sessions/:ownerId',
        url: `/sessions/${id}`,
        badIds: byId((v) => `/sessions/${v}`),
      },
      {
        method: 'GET',
        route: '/sessions/by-id/:sessionId',
        url: `/sessions/by-id/${session.sessionId}`,
        badIds: { template: (v) => `/sessions/by-id/${v}`, values: BAD_UUIDS },
      },
      {
        method: 'DELETE',
        route: '/sessions/by-id/:sessionId',
        url: `/sessions/by-id/${session.sessionId}`,
        badIds: { template: (v) => `/sessions/by-id/${v}`, values: BAD_UUIDS },
      },
      {
        method: 'PUT',
        route: '/sessions/:ownerId/channel',
        url: `/sessions/${id}/channel`,
        body: { channelServerIndex: 3, channelIndex: 4 },
        required: ['channelServerIndex', 'channelIndex'],
        badIds: byId((v) => `/sessions/${v}/channel`),
      },
      {
        method: 'POST',
        route: '/sessions/:ownerId/holepunch',
        url: `/sessions/${id}/holepunch`,
        body: { portId: 256, localPort: 27_015, externalPort: 27_016 },
        required: ['portId', 'localPort', 'externalPort'],
        badIds: byId((v) => `/sessions/${v}/holepunch`),
      },
      {
        method: 'POST',
        route: '/users/session',
        url: '/users/session',
        body: credentials,
        required: ['username', 'password'],
      },
      {
        method: 'GET',
        route: '/users/session',
        url: '/users/session',
        body: { userId: owner.userId },
        required: ['userId'],
      },
      {
        method: 'PUT',
        route: '/users/session',
        url: '/users/session',
        body: { userId: owner.userId, currentRoomId: 7 },
        required: ['userId'],
      },
      {
        method: 'DELETE',
        route: '/users/session',
        url: '/users/session',
        body: { userId: owner.userId },
        required: ['userId'],
      },
      { method: 'GET', route: '/ping', url: '/ping' },
    ];
  });
  after(() => t.close());

  it('should answer each attack on every route 4xx problem+json and change nothing', async () => {
    const before = await snapshot(t.database.storage);
    let count = 0;
    for (const route of routes) {
      for (const attack of attacksOn(route)) {
        const what = `${route.method} ${route.route} with ${attack.name}`;
        assertRefused(await send(t, route.method, attack), what);
        count += 1;
      }
      assert.equal(await snapshot(t.database.storage), before, `${route.method} ${route.route}`);
    }
    assert.ok(count > 800, `only ${count} attacks`);
  });

  it('should answer 413 when a body is over the size limit', async () => {
    for (const route of routes.filter((r) => r.body)) {
      const response = await t.app.inject({
        method: route.method,
        url: route.url,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ ...route.body, padding: 'x'.repeat(BODY_LIMIT_BYTES) }),
      });
      assert.equal(response.statusCode, 413, `${route.method} ${route.route}`);
    }
  });

  it('should answer 400 when an id in a path is not a plain positive 32-bit integer', async () => {
    for (const id of ['1e1', '0x10', '%2016', '16.0', '2147483648', '0', '-5']) {
      const response = await call(t.app, 'GET', `/users/${id}`);
      assert.equal(response.statusCode, 400, `/users/${id}: ${response.body}`);
      assert.match(response.json().detail, /params\.userId/);
    }
    assert.equal((await call(t.app, 'GET', '/users/2147483647')).statusCode, 404);
  });

  it('should answer 400 when a number in a body is sent as text', async () => {
    const response = await call(t.app, 'PUT', '/users/session', { userId: '1', currentRoomId: 2 });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().detail, /body\.userId/);
  });
});

describe(`input limits (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ loginMaxFailures: 1_000 });
  });
  after(() => t.close());

  it('should store SQL-like text verbatim and harmlessly when a field takes any text', async () => {
    const playername = "Robert'); DROP TABLE users;--";
    const password = "' OR '1'='1' --";
    const user = await signUp(t.app, { playername, password });

    const read = await call(t.app, 'GET', `/users/${user.userId}`);
    assert.equal(read.json().playerName, playername);
    const login = await call(t.app, 'POST', '/users/auth/validate', {
      username: user.username,
      password,
    });
    assert.equal(login.statusCode, 200);
    const other = await call(t.app, 'POST', '/users/auth/validate', {
      username: user.username,
      password: "' OR ''='",
    });
    assert.equal(other.statusCode, 401);
    assert.ok((await call(t.app, 'GET', '/users')).json().length >= 1);
  });

  it('should let a user log in when the password has 128 characters outside the BMP', async () => {
    const password = '\u{1F600}'.repeat(PASSWORD_MAX_LENGTH);
    const user = await signUp(t.app, { password });
    const login = await call(t.app, 'POST', '/sessions', { username: user.username, password });
    assert.equal(login.statusCode, 201, login.body);

    const tooLong = await call(t.app, 'POST', '/users', {
      username: 'emoji129',
      playername: 'Emoji 129',
      password: `${password}x`,
    });
    assert.equal(tooLong.statusCode, 400);
  });

  it('should refuse a password over 128 characters when set at sign-up or update', async () => {
    const user = await signUp(t.app);
    const long = 'p'.repeat(PASSWORD_MAX_LENGTH + 1);
    const before = await snapshot(t.database.storage);

    const signUpLong = await call(t.app, 'POST', '/users', {
      username: 'longpw',
      playername: 'Long Password',
      password: long,
    });
    assert.equal(signUpLong.statusCode, 400);
    assert.match(signUpLong.json().detail, /body\.password/);
    const update = await call(t.app, 'PUT', `/users/${user.userId}`, { password: long });
    assert.equal(update.statusCode, 400);
    assert.equal(await snapshot(t.database.storage), before);
  });

  it('should not check the stored hash when a login password is over 128 characters', async () => {
    // The stored hash is of the long password itself: only a check that never
    // reaches the hash function can fail this login.
    const long = 'L'.repeat(PASSWORD_MAX_LENGTH + 1);
    const user = await signUp(t.app);
    await t.database.storage.db
      .updateTable('users')
      .set({ passwordHash: await hashPassword(long) })
      .where('id', '=', user.userId)
      .execute();

    const response = await call(t.app, 'POST', '/users/auth/validate', {
      username: user.username,
      password: long,
    });
    assert.equal(response.statusCode, 401);
  });

  it('should answer a login with a field of any length as a failed login', async () => {
    const user = await signUp(t.app);
    const wrong = await call(t.app, 'POST', '/sessions', {
      username: user.username,
      password: 'wrong-password',
    });

    for (const body of [
      { username: user.username, password: 'x'.repeat(10_000) },
      { username: 'n'.repeat(10_000), password: user.password },
    ]) {
      const response = await call(t.app, 'POST', '/sessions', body);
      assert.equal(response.statusCode, 401);
      assert.deepEqual(response.json(), wrong.json());
    }
  });
});
