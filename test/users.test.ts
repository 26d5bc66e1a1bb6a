import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  call,
  ENGINE,
  expectProblem,
  insertUserRows,
  newUser,
  signUp,
  signUpAndLogIn,
  snapshot,
  startApp,
  storedPasswordHash,
  type TestApp,
} from './helpers.js';

/** The profile every new user starts with, as API.md lists it. */
const DEFAULT_PROFILE = {
  level: 1,
  avatar: 1005,
  curExp: 0,
  maxExp: 1000,
  rank: 0,
  vipLevel: 1,
  wins: 0,
  losses: 0,
  kills: 0,
  deaths: 0,
  assists: 0,
};

/** Ids in a path that are not positive integers up to 2^31-1. */
const BAD_IDS = ['abc', '1e1', '0x10', '16.0', '2147483648', '0', '-1'];

/** Fails if any key of the answer, at any depth, looks like a password or its hash. */
function assertNoSecret(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) assertNoSecret(item);
    return;
  }
  for (const [key, inner] of Object.entries(value)) {
    assert.doesNotMatch(key, /pass|hash/i, `answer holds a secret field ${key}`);
    assertNoSecret(inner);
  }
}

let t: TestApp;
before(async () => {
  t = await startApp();
});
after(() => t.close());

describe(`POST /users (${ENGINE})`, () => {
  it('should answer 201 with the new userId when every field is valid', async () => {
    const user = newUser();
    const response = await call(t.app, 'POST', '/users', user);

    assert.equal(response.statusCode, 201);
    const { userId } = response.json();
    assert.deepEqual(response.json(), { userId });
    assert.ok(Number.isInteger(userId) && userId >= 1);
    const read = (await call(t.app, 'GET', `/users/${userId}`)).json();
    assert.equal(read.userName, user.username);
    assert.equal(read.playerName, user.playername);
  });

  it('should accept a player name of exactly 32 characters counted as code points', async () => {
    for (const playername of ['p'.repeat(32), '\u{1F600}'.repeat(32)]) {
      const response = await call(t.app, 'POST', '/users', newUser({ playername }));
      assert.equal(response.statusCode, 201, response.body);
    }
  });

  const invalid: [field: 'username' | 'playername' | 'password', value: unknown, why: string][] = [
    ['username', 'ab', 'is shorter than 3 characters'],
    ['username', 'abcdefghijk', 'is longer than 10 characters'],
    ['username', 'user_1', 'holds an underscore'],
    ['username', 'us\u00e9r1', 'holds a letter outside ASCII'],
    ['username', 12345, 'is a number'],
    ['playername', '', 'is empty'],
    ['playername', 'p'.repeat(33), 'is longer than 32 characters'],
    ['playername', 'Bell\u0007', 'holds a control character'],
    ['playername', 'Zero\u200bWidth', 'holds a zero-width space U+200B'],
    ['playername', 'Private\ue000', 'holds a private-use character'],
    ['playername', ' Gamer', 'starts with a space'],
    ['playername', 'Gamer ', 'ends with a space'],
    ['playername', '\u2800', 'is the blank Braille pattern U+2800'],
    ['playername', '\u0301Gamer', 'starts with a combining mark'],
    ['playername', '\u00a8Gamer', 'starts with U+00A8, which NFKC makes a space and a mark'],
    ['password', 'short', 'is shorter than 6 characters'],
    ['password', 'p'.repeat(129), 'is longer than 128 characters'],
    ['password', 'secret\ud800', 'holds a lone surrogate'],
  ];
  for (const [field, value, why] of invalid) {
    it(`should answer 400 naming body.${field} when it ${why}`, async () => {
      const before = await snapshot(t.database.storage);
      const response = await call(t.app, 'POST', '/users', newUser({ [field]: value }));

      expectProblem(response, 400, `body.${field}`);
      assert.equal(await snapshot(t.database.storage), before);
    });
  }

  for (const field of ['username', 'playername', 'password'] as const) {
    it(`should answer 400 naming body.${field} when it is missing`, async () => {
      const { [field]: _, ...rest } = newUser();
      expectProblem(await call(t.app, 'POST', '/users', rest), 400, `body.${field}`);
    });
  }

  it('should answer 409 when the user name is taken in another case', async () => {
    await signUp(t.app, { username: 'Alpha7' });
    const before = await snapshot(t.database.storage);

    const response = await call(t.app, 'POST', '/users', newUser({ username: 'aLPHA7' }));

    expectProblem(response, 409, 'body.username');
    assert.equal(await snapshot(t.database.storage), before);
  });

  const lookAlikes = [
    ['Игрок', 'игрок', 'Cyrillic in another case'],
    ['Ｇａｍｅｒ', 'gamer', 'full-width Latin against plain lower case'],
    ['Straße', 'STRASSE', 'a sharp s against double s'],
    ['Maße', 'MAẞE', 'a sharp s against a capital sharp s'],
    ['ẞ', 'ss', 'a capital sharp s against double s'],
  ];
  for (const [taken, attempt, why] of lookAlikes) {
    it(`should answer 409 when the NFKC case-folded player name is taken: ${why}`, async () => {
      await signUp(t.app, { playername: taken });
      const before = await snapshot(t.database.storage);

      const response = await call(t.app, 'POST', '/users', newUser({ playername: attempt }));

      expectProblem(response, 409, 'body.playername');
      assert.equal(await snapshot(t.database.storage), before);
    });
  }

  it('should keep the names as typed when they are stored', async () => {
    const { userId } = await signUp(t.app, { username: 'MiXeD9', playername: 'Ｓｔａｒ Игрок' });
    const read = (await call(t.app, 'GET', `/users/${userId}`)).json();
    assert.equal(read.userName, 'MiXeD9');
    assert.equal(read.playerName, 'Ｓｔａｒ Игрок');
  });
});

describe(`GET /users (${ENGINE})`, () => {
  let listing: TestApp;
  let ids: number[];
  before(async () => {
    listing = await startApp();
    ids = await insertUserRows(listing.database.storage, 'bulk', 105);
    // An update moves a PostgreSQL row to the end of its table: only ORDER BY keeps the order.
    await call(listing.app, 'PUT', `/users/${ids[0]}`, { level: 2 });
  });
  after(() => listing.close());

  const idsOf = (page: { userId: number }[]) => page.map((user) => user.userId);

  it("should list the first 100 users' ids and names in id order when given no query", async () => {
    const response = await call(listing.app, 'GET', '/users');

    assert.equal(response.statusCode, 200);
    const page = response.json();
    assert.deepEqual(idsOf(page), ids.slice(0, 100));
    assert.deepEqual(page[0], { userId: ids[0], userName: 'bulk1', playerName: 'bulk1' });
    for (const user of page) {
      assert.deepEqual(Object.keys(user).sort(), ['playerName', 'userId', 'userName']);
    }
  });

  it('should answer the page that offset and length select', async () => {
    const page = (await call(listing.app, 'GET', '/users?offset=1&length=2')).json();
    assert.deepEqual(idsOf(page), ids.slice(1, 3));
    const last = (await call(listing.app, 'GET', '/users?offset=100&length=100')).json();
    assert.deepEqual(idsOf(last), ids.slice(100));
    assert.deepEqual((await call(listing.app, 'GET', '/users?offset=105')).json(), []);
  });

  it('should accept a length of 100 and ignore unknown query parameters', async () => {
    const response = await call(listing.app, 'GET', '/users?length=100&sort=desc');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(idsOf(response.json()), ids.slice(0, 100));
  });

  it('should answer 413 naming query.length when length is above 100', async () => {
    expectProblem(await call(listing.app, 'GET', '/users?length=101'), 413, 'query.length');
  });

  for (const [query, field] of [
    ['length=abc', 'query.length'],
    ['length=-1', 'query.length'],
    ['offset=1.5', 'query.offset'],
  ]) {
    it(`should answer 400 naming ${field} when the query is ${query}`, async () => {
      expectProblem(await call(listing.app, 'GET', `/users?${query}`), 400, field);
    });
  }
});

describe(`GET /users/:userId (${ENGINE})`, () => {
  it('should answer 200 with the whole profile at its defaults for a new user', async () => {
    const started = Date.now();
    const user = await signUp(t.app);

    const response = await call(t.app, 'GET', `/users/${user.userId}`);

    assert.equal(response.statusCode, 200);
    const { createdAt, ...rest } = response.json();
    assert.deepEqual(rest, {
      userId: user.userId,
      userName: user.username,
      playerName: user.playername,
      ...DEFAULT_PROFILE,
    });
    assert.match(createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Math.abs(Date.parse(createdAt) - started) < 60_000);
  });

  it('should never show the password or its hash', async () => {
    const user = await signUp(t.app);
    const hash = await storedPasswordHash(t.database.storage, user.userId);
    const answers = [
      await call(t.app, 'GET', `/users/${user.userId}`),
      await call(t.app, 'GET', `/users/byname/${user.username}`),
      await call(t.app, 'GET', '/users'),
      await call(t.app, 'PUT', `/users/${user.userId}`, { wins: 1 }),
    ];
    for (const answer of answers) {
      assert.equal(answer.statusCode, 200);
      assertNoSecret(answer.json());
      assert.ok(!answer.body.includes(hash), 'the answer holds the hash');
      assert.ok(!answer.body.includes(user.password), 'the answer holds the password');
    }
  });

  for (const id of BAD_IDS) {
    it(`should answer 400 naming params.userId when the id is '${id}'`, async () => {
      expectProblem(await call(t.app, 'GET', `/users/${id}`), 400, 'params.userId');
    });
  }

  it('should answer 404 when no user has the id', async () => {
    expectProblem(await call(t.app, 'GET', '/users/2147483647'), 404);
  });
});

describe(`GET /users/byname/:username (${ENGINE})`, () => {
  it('should answer 200 with the user when the name is written in another case', async () => {
    const user = await signUp(t.app, { username: 'CamelCase' });

    for (const name of ['camelcase', 'CAMELCASE', 'CamelCase']) {
      const response = await call(t.app, 'GET', `/users/byname/${name}`);
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().userId, user.userId);
      assert.equal(response.json().userName, 'CamelCase');
      assert.equal(response.json().level, DEFAULT_PROFILE.level);
    }
  });

  it('should answer 404 when no user has the name', async () => {
    expectProblem(await call(t.app, 'GET', '/users/byname/nobody'), 404);
  });

  it('should answer 404 when the name is longer than any user name can be', async () => {
    expectProblem(await call(t.app, 'GET', `/users/byname/${'n'.repeat(65)}`), 404);
  });

  it('should answer 414 problem+json when the name is past the path segment limit', async () => {
    expectProblem(await call(t.app, 'GET', `/users/byname/${'n'.repeat(101)}`), 414);
  });
});

describe(`PUT /users/:userId (${ENGINE})`, () => {
  it('should change only the profile fields sent', async () => {
    const user = await signUp(t.app);

    const response = await call(t.app, 'PUT', `/users/${user.userId}`, { level: 5, kills: 10 });

    assert.equal(response.statusCode, 200);
    const expected = { ...DEFAULT_PROFILE, level: 5, kills: 10 };
    const read = (await call(t.app, 'GET', `/users/${user.userId}`)).json();
    for (const answer of [response.json(), read]) {
      for (const [field, value] of Object.entries(expected)) assert.equal(answer[field], value);
      assert.equal(answer.playerName, user.playername);
    }
  });

  it('should accept a whole user echoed back with a changed field', async () => {
    const user = await signUp(t.app);
    const current = (await call(t.app, 'GET', `/users/${user.userId}`)).json();

    const response = await call(t.app, 'PUT', `/users/${user.userId}`, { ...current, wins: 3 });

    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { ...current, wins: 3 });
  });

  for (const [field, value] of [
    ['userId', 2_000_000],
    ['userName', 'someone'],
    ['createdAt', '2001-01-01T00:00:00.000Z'],
  ] as const) {
    it(`should answer 400 naming body.${field} when it differs from the current one`, async () => {
      const user = await signUp(t.app);
      const before = await snapshot(t.database.storage);

      const response = await call(t.app, 'PUT', `/users/${user.userId}`, {
        [field]: value,
        wins: 9,
      });

      expectProblem(response, 400, `body.${field}`);
      assert.equal(await snapshot(t.database.storage), before);
    });
  }

  const refused: [body: Record<string, unknown>, field: string, why: string][] = [
    [{ coins: 5 }, 'body.coins', 'an unknown field'],
    [{ passwordHash: '$argon2id$x' }, 'body.passwordHash', 'an attempt to set the hash'],
    [{ level: 0 }, 'body.level', 'level 0'],
    [{ level: 100 }, 'body.level', 'level 100'],
    [{ kills: -1 }, 'body.kills', 'kills -1'],
    [{ vipLevel: 8 }, 'body.vipLevel', 'vipLevel 8'],
    [{ wins: 1.5 }, 'body.wins', 'a fractional counter'],
    [{ password: 'short' }, 'body.password', 'a password shorter than 6'],
    [{ playerName: 'Zero\u200bWidth' }, 'body.playerName', 'an invisible character'],
  ];
  for (const [body, field, why] of refused) {
    it(`should answer 400 naming ${field} and change nothing when given ${why}`, async () => {
      const user = await signUp(t.app);
      const before = await snapshot(t.database.storage);

      const response = await call(t.app, 'PUT', `/users/${user.userId}`, { wins: 4, ...body });

      expectProblem(response, 400, field);
      assert.equal(await snapshot(t.database.storage), before);
    });
  }

  it('should fail the old password and accept the new one when the password changes', async () => {
    const user = await signUp(t.app);
    const newPassword = 'brand-new-secret';

    const response = await call(t.app, 'PUT', `/users/${user.userId}`, { password: newPassword });

    assert.equal(response.statusCode, 200);
    const validate = (password: string) =>
      call(t.app, 'POST', '/users/auth/validate', { username: user.username, password });
    expectProblem(await validate(user.password), 401);
    const ok = await validate(newPassword);
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { userId: user.userId });
  });

  it('should change the player name when the new one is free', async () => {
    const user = await signUp(t.app);
    const response = await call(t.app, 'PUT', `/users/${user.userId}`, { playerName: 'Renamed' });
    assert.equal(response.statusCode, 200);
    assert.equal((await call(t.app, 'GET', `/users/${user.userId}`)).json().playerName, 'Renamed');
  });

  it('should answer 409 naming body.playerName when another user has the new one', async () => {
    await signUp(t.app, { playername: 'Taken Name' });
    const user = await signUp(t.app);
    const before = await snapshot(t.database.storage);

    const response = await call(t.app, 'PUT', `/users/${user.userId}`, {
      playerName: 'TAKEN NAME',
    });

    expectProblem(response, 409, 'body.playerName');
    assert.equal(await snapshot(t.database.storage), before);
  });

  it('should answer 404 when no user has the id', async () => {
    expectProblem(await call(t.app, 'PUT', '/users/2147483647', { level: 2 }), 404);
  });

  it('should answer 400 naming params.userId when the id is not a positive integer', async () => {
    expectProblem(await call(t.app, 'PUT', '/users/abc', { level: 2 }), 400, 'params.userId');
  });
});

describe(`DELETE /users/:userId (${ENGINE})`, () => {
  it('should answer 200 and remove the user together with their session', async () => {
    const { user } = await signUpAndLogIn(t.app);
    assert.equal((await call(t.app, 'GET', '/ping')).json().sessions, 1);

    const response = await call(t.app, 'DELETE', `/users/${user.userId}`);

    assert.equal(response.statusCode, 200);
    expectProblem(await call(t.app, 'GET', `/users/${user.userId}`), 404);
    expectProblem(await call(t.app, 'GET', `/sessions/${user.userId}`), 404);
    assert.equal((await call(t.app, 'GET', '/ping')).json().sessions, 0);
    const login = { username: user.username, password: user.password };
    expectProblem(await call(t.app, 'POST', '/users/auth/validate', login), 401);
  });

  it('should answer 404 when the user was already deleted', async () => {
    const user = await signUp(t.app);
    assert.equal((await call(t.app, 'DELETE', `/users/${user.userId}`)).statusCode, 200);
    expectProblem(await call(t.app, 'DELETE', `/users/${user.userId}`), 404);
  });

  it('should never give a deleted id to a new sign-up, even under the same name', async () => {
    const user = await signUp(t.app);
    await call(t.app, 'DELETE', `/users/${user.userId}`);

    const again = await call(t.app, 'POST', '/users', {
      username: user.username,
      playername: user.playername,
      password: user.password,
    });

    assert.equal(again.statusCode, 201);
    assert.ok(again.json().userId > user.userId, `id ${user.userId} was handed out again`);
  });

  it('should answer 400 naming params.userId when the id is not a positive integer', async () => {
    expectProblem(await call(t.app, 'DELETE', '/users/1e1'), 400, 'params.userId');
  });
});

describe(`POST /users/auth/validate (${ENGINE})`, () => {
  it('should answer 200 with the userId when the credentials are right', async () => {
    const user = await signUp(t.app);
    const response = await call(t.app, 'POST', '/users/auth/validate', {
      username: user.username,
      password: user.password,
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { userId: user.userId });
  });

  it('should match the user name without regard to case', async () => {
    const user = await signUp(t.app, { username: 'LoginMe' });
    const response = await call(t.app, 'POST', '/users/auth/validate', {
      username: 'LOGINme',
      password: user.password,
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { userId: user.userId });
  });

  it('should answer the same 401 and body when the password is wrong or user unknown', async () => {
    const user = await signUp(t.app);

    const wrong = await call(t.app, 'POST', '/users/auth/validate', {
      username: user.username,
      password: 'not-the-password',
    });
    const unknown = await call(t.app, 'POST', '/users/auth/validate', {
      username: 'ghost1',
      password: user.password,
    });

    expectProblem(wrong, 401);
    expectProblem(unknown, 401);
    assert.deepEqual(wrong.json(), unknown.json());
    assert.equal(wrong.headers['content-type'], unknown.headers['content-type']);
  });

  it('should answer 401 when the password is outside the sign-up length range', async () => {
    const user = await signUp(t.app);
    for (const password of ['x', 'p'.repeat(129)]) {
      const response = await call(t.app, 'POST', '/users/auth/validate', {
        username: user.username,
        password,
      });
      expectProblem(response, 401);
    }
  });

  it('should answer 400 naming body.password when it is missing', async () => {
    const response = await call(t.app, 'POST', '/users/auth/validate', { username: 'someone' });
    expectProblem(response, 400, 'body.password');
  });
});

describe(`POST /users/auth/validate lock-out (${ENGINE})`, () => {
  let strict: TestApp;
  before(async () => {
    strict = await startApp({ loginMaxFailures: 2 });
  });
  after(() => strict.close());

  it('should answer 429 with Retry-After to the right password after max failures', async () => {
    const user = await signUp(strict.app);
    const attempt = (password: string) =>
      call(strict.app, 'POST', '/users/auth/validate', { username: user.username, password });

    expectProblem(await attempt('wrong-one'), 401);
    expectProblem(await attempt('wrong-two'), 401);
    const locked = await attempt(user.password);

    expectProblem(locked, 429);
    assert.ok(Number(locked.headers['retry-after']) >= 1);
  });
});
