import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  call,
  DEFAULT_NET,
  defaultSession,
  ENGINE,
  expectProblem,
  insertUserRows,
  signUp,
  signUpAndLogIn,
  snapshot,
  startApp,
  type TestApp,
} from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Owner ids in a path that are not positive integers up to 2^31-1. */
const BAD_IDS = ['abc', '1e1', '0x10', '16.0', '2147483648', '0'];

/** A full network record, distinct per side so that a swap would show. */
const EXTERNAL = { ipAddress: '203.0.113.7', clientPort: 27005, serverPort: 27015, tvPort: 27020 };
const INTERNAL = { ipAddress: '192.168.1.20', clientPort: 1001, serverPort: 1002, tvPort: 1003 };

let t: TestApp;
before(async () => {
  // Three failures lock a user name out; only the 429 test gets there.
  t = await startApp({ loginMaxFailures: 3 });
});
after(() => t.close());

function login(app: TestApp['app'], username: string, password: string) {
  return call(app, 'POST', '/sessions', { username, password });
}

describe(`POST /sessions (${ENGINE})`, () => {
  it('should answer 201 with a new default session when the credentials are right', async () => {
    const user = await signUp(t.app);

    const response = await login(t.app, user.username, user.password);

    assert.equal(response.statusCode, 201);
    const session = response.json();
    assert.match(session.sessionId, UUID);
    assert.deepEqual(
      session,
      defaultSession({ sessionId: session.sessionId, userId: user.userId }),
    );
    assert.deepEqual((await call(t.app, 'GET', `/sessions/${user.userId}`)).json(), session);
  });

  it('should give every session its own sessionId', async () => {
    const first = await signUpAndLogIn(t.app);
    const second = await signUpAndLogIn(t.app);
    assert.notEqual(first.session.sessionId, second.session.sessionId);
  });

  it('should match the user name without regard to case', async () => {
    const user = await signUp(t.app, { username: 'CaseLogin' });
    const response = await login(t.app, 'caselogin', user.password);
    assert.equal(response.statusCode, 201);
    assert.equal(response.json().userId, user.userId);
  });

  it('should answer 401 and open nothing when the password is wrong or user unknown', async () => {
    const user = await signUp(t.app);
    const before = await snapshot(t.database.storage);

    const wrong = await login(t.app, user.username, 'wrong-password');
    const unknown = await login(t.app, 'nobody42', user.password);

    expectProblem(wrong, 401);
    expectProblem(unknown, 401);
    assert.deepEqual(wrong.json(), unknown.json());
    assert.equal(await snapshot(t.database.storage), before);
  });

  it('should answer 401 and open nothing when the password is a lone surrogate away', async () => {
    const user = await signUp(t.app, { password: 'secret\ufffd' });
    const before = await snapshot(t.database.storage);

    expectProblem(await login(t.app, user.username, 'secret\ud800'), 401);
    assert.equal(await snapshot(t.database.storage), before);
  });

  it('should answer 201 or 401, never 5xx, when the account is deleted mid-login', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => signUp(t.app)));

    const races = users.map(async (user, i) => {
      const loggingIn = login(t.app, user.username, user.password);
      await new Promise((resolve) => setTimeout(resolve, i * 2));
      const deleted = await call(t.app, 'DELETE', `/users/${user.userId}`);
      return { login: (await loggingIn).statusCode, delete: deleted.statusCode };
    });

    for (const outcome of await Promise.all(races)) {
      assert.ok([201, 401].includes(outcome.login), `login answered ${outcome.login}`);
      assert.equal(outcome.delete, 200);
    }
    const left = await t.database.storage.db.selectFrom('sessions').select('userId').execute();
    const deletedIds = new Set(users.map((user) => user.userId));
    assert.deepEqual(
      left.filter((row) => deletedIds.has(row.userId)),
      [],
    );
  });

  it('should answer 409 and keep the live session when the user logs in again', async () => {
    const { user, session } = await signUpAndLogIn(t.app);

    const again = await login(t.app, user.username, user.password);

    expectProblem(again, 409);
    const current = await call(t.app, 'GET', `/sessions/${user.userId}`);
    assert.equal(current.json().sessionId, session.sessionId);
  });

  for (const field of ['username', 'password'] as const) {
    it(`should answer 400 naming body.${field} when it is missing`, async () => {
      const body = { username: 'someone', password: 'secret-1' };
      delete body[field];
      expectProblem(await call(t.app, 'POST', '/sessions', body), 400, `body.${field}`);
    });
  }

  it('should answer 429 to the right password once the user name is locked out', async () => {
    const user = await signUp(t.app);
    for (let i = 0; i < 3; i += 1) expectProblem(await login(t.app, user.username, 'wrong!'), 401);

    const locked = await login(t.app, user.username, user.password);

    expectProblem(locked, 429);
    assert.ok(Number(locked.headers['retry-after']) >= 1);
    expectProblem(await call(t.app, 'GET', `/sessions/${user.userId}`), 404);
  });
});

describe(`GET /sessions and DELETE /sessions (${ENGINE})`, () => {
  let lobby: TestApp;
  let owners: number[];
  before(async () => {
    lobby = await startApp();
    const { db } = lobby.database.storage;
    owners = await insertUserRows(lobby.database.storage, 'lobby', 30);
    // Sessions are written newest owner first: only ORDER BY gives owner order.
    const now = new Date().toISOString();
    for (const userId of [...owners].reverse()) {
      await db
        .insertInto('sessions')
        .values({ userId, sessionId: randomUUID(), createdAt: now, updatedAt: now })
        .execute();
    }
    const place = async (index: number, body: Record<string, number>) => {
      const response = await call(lobby.app, 'PUT', `/sessions/${owners[index]}`, body);
      assert.equal(response.statusCode, 200, response.body);
    };
    await place(0, { currentChannelServerIndex: 1, currentChannelIndex: 2, currentRoomId: 7 });
    await place(1, { currentChannelServerIndex: 1, currentChannelIndex: 2, currentRoomId: 7 });
    await place(2, { currentChannelServerIndex: 1, currentChannelIndex: 2 });
    await place(3, { currentChannelServerIndex: 1, currentChannelIndex: 3 });
    await place(4, { currentChannelServerIndex: 2, currentChannelIndex: 2 });
  });
  after(() => lobby.close());

  const ownersOf = (page: { userId: number }[]) => page.map((session) => session.userId);

  it('should answer the first 25 sessions in owner order when given no parameters', async () => {
    const response = await call(lobby.app, 'GET', '/sessions');

    assert.equal(response.statusCode, 200);
    const page = response.json();
    assert.deepEqual(ownersOf(page), owners.slice(0, 25));
    assert.match(page[0].sessionId, UUID);
    assert.deepEqual(page[29 - 25].externalNet, DEFAULT_NET);
  });

  it('should answer the page that offset and length select', async () => {
    const page = (await call(lobby.app, 'GET', '/sessions?offset=2&length=3')).json();
    assert.deepEqual(ownersOf(page), owners.slice(2, 5));
    const last = (await call(lobby.app, 'GET', '/sessions?offset=25&length=25')).json();
    assert.deepEqual(ownersOf(last), owners.slice(25));
  });

  it('should answer 413 naming query.length when length is above 25', async () => {
    assert.equal((await call(lobby.app, 'GET', '/sessions?length=25')).statusCode, 200);
    expectProblem(await call(lobby.app, 'GET', '/sessions?length=26'), 413, 'query.length');
  });

  const filters: [query: string, indexes: number[]][] = [
    ['channelServerIndex=1', [0, 1, 2, 3]],
    ['channelServerIndex=1&channelIndex=2', [0, 1, 2]],
    ['channelIndex=2', [0, 1, 2, 4]],
    ['roomId=7', [0, 1]],
    ['channelServerIndex=1&offset=1&length=2', [1, 2]],
    ['channelServerIndex=9', []],
  ];
  for (const [query, indexes] of filters) {
    it(`should answer only the matching sessions when filtered by ${query}`, async () => {
      const response = await call(lobby.app, 'GET', `/sessions?${query}`);
      assert.equal(response.statusCode, 200);
      const expected = indexes.map((index) => owners[index]);
      assert.deepEqual(ownersOf(response.json()), expected);
    });
  }

  for (const [query, field] of [
    ['length=abc', 'query.length'],
    ['offset=-1', 'query.offset'],
    ['roomId=x', 'query.roomId'],
    ['channelIndex=65536', 'query.channelIndex'],
  ]) {
    it(`should answer 400 naming ${field} when the query is ${query}`, async () => {
      expectProblem(await call(lobby.app, 'GET', `/sessions?${query}`), 400, field);
    });
  }

  it('should close every session on DELETE /sessions and leave the users', async () => {
    const response = await call(lobby.app, 'DELETE', '/sessions');

    assert.equal(response.statusCode, 200);
    assert.deepEqual((await call(lobby.app, 'GET', '/sessions')).json(), []);
    assert.equal((await call(lobby.app, 'GET', '/ping')).json().sessions, 0);
    expectProblem(await call(lobby.app, 'GET', `/sessions/${owners[0]}`), 404);
    assert.equal((await call(lobby.app, 'GET', `/users/${owners[0]}`)).statusCode, 200);
  });
});

describe(`GET /sessions/:ownerId (${ENGINE})`, () => {
  it('should answer 200 with the session', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const response = await call(t.app, 'GET', `/sessions/${user.userId}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), session);
  });

  for (const id of BAD_IDS) {
    it(`should answer 400 naming params.ownerId when the id is '${id}'`, async () => {
      expectProblem(await call(t.app, 'GET', `/sessions/${id}`), 400, 'params.ownerId');
    });
  }

  it('should answer 404 when no user has the id', async () => {
    expectProblem(await call(t.app, 'GET', '/sessions/2147483647'), 404);
  });
});

describe(`PUT /sessions/:ownerId (${ENGINE})`, () => {
  it('should answer 200 with the session after setting whole network records', async () => {
    const { user, session } = await signUpAndLogIn(t.app);

    const response = await call(t.app, 'PUT', `/sessions/${user.userId}`, {
      externalNet: EXTERNAL,
      internalNet: INTERNAL,
      currentRoomId: 3,
    });

    assert.equal(response.statusCode, 200);
    const expected = { ...session, externalNet: EXTERNAL, internalNet: INTERNAL, currentRoomId: 3 };
    assert.deepEqual(response.json(), expected);
    assert.deepEqual((await call(t.app, 'GET', `/sessions/${user.userId}`)).json(), expected);
  });

  it('should change one port alone when a partial network record is sent', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const url = `/sessions/${user.userId}`;
    await call(t.app, 'PUT', url, { externalNet: EXTERNAL, internalNet: INTERNAL });

    const response = await call(t.app, 'PUT', url, { externalNet: { clientPort: 5 } });

    assert.equal(response.statusCode, 200);
    const expected = {
      ...session,
      externalNet: { ...EXTERNAL, clientPort: 5 },
      internalNet: INTERNAL,
    };
    assert.deepEqual(response.json(), expected);
    assert.deepEqual((await call(t.app, 'GET', url)).json(), expected);
  });

  it('should change the address alone when only ipAddress is sent', async () => {
    const { user } = await signUpAndLogIn(t.app);
    const url = `/sessions/${user.userId}`;
    await call(t.app, 'PUT', url, { internalNet: INTERNAL });

    const response = await call(t.app, 'PUT', url, { internalNet: { ipAddress: '::1' } });

    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json().internalNet, { ...INTERNAL, ipAddress: '::1' });
    assert.deepEqual(response.json().externalNet, DEFAULT_NET);
  });

  it('should accept the whole session echoed back with its sessionId and userId', async () => {
    const { user, session } = await signUpAndLogIn(t.app);

    const response = await call(t.app, 'PUT', `/sessions/${user.userId}`, {
      ...session,
      currentChannelIndex: 4,
    });

    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { ...session, currentChannelIndex: 4 });
  });

  it('should accept the sessionId echoed in upper case', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const response = await call(t.app, 'PUT', `/sessions/${user.userId}`, {
      sessionId: session.sessionId.toUpperCase(),
      currentRoomId: 2,
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().sessionId, session.sessionId);
  });

  const refused: [body: Record<string, unknown>, field: string, why: string][] = [
    [{ sessionId: randomUUID() }, 'body.sessionId', 'another sessionId'],
    [{ userId: 2_000_000 }, 'body.userId', 'another userId'],
    [{ externalNet: { ipAddress: '999.1.1.1' } }, 'body.externalNet.ipAddress', 'IP 999.1.1.1'],
    [{ internalNet: { ipAddress: 'localhost' } }, 'body.internalNet.ipAddress', 'a host name'],
    [{ externalNet: { clientPort: 70000 } }, 'body.externalNet.clientPort', 'port 70000'],
    [{ internalNet: { tvPort: -1 } }, 'body.internalNet.tvPort', 'port -1'],
    [{ externalNet: { port: 1 } }, 'body.externalNet.port', 'an unknown network field'],
    [{ roomId: 1 }, 'body.roomId', 'an unknown field'],
    [{ currentRoomId: '1' }, 'body.currentRoomId', 'a room id as text'],
  ];
  for (const [body, field, why] of refused) {
    it(`should answer 400 naming ${field} and change nothing when given ${why}`, async () => {
      const { user } = await signUpAndLogIn(t.app);
      const before = await snapshot(t.database.storage);

      const response = await call(t.app, 'PUT', `/sessions/${user.userId}`, {
        currentRoomId: 9,
        ...body,
      });

      expectProblem(response, 400, field);
      assert.equal(await snapshot(t.database.storage), before);
    });
  }

  it('should answer 404 when the user has no session', async () => {
    const user = await signUp(t.app);
    const response = await call(t.app, 'PUT', `/sessions/${user.userId}`, { currentRoomId: 1 });
    expectProblem(response, 404);
  });

  it('should answer 400 naming params.ownerId when the id is not a positive integer', async () => {
    const response = await call(t.app, 'PUT', '/sessions/0x10', { currentRoomId: 1 });
    expectProblem(response, 400, 'params.ownerId');
  });
});

describe(`DELETE /sessions/:ownerId (${ENGINE})`, () => {
  it('should answer 200 with the closed session and keep the user', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const live = (await call(t.app, 'GET', '/ping')).json().sessions;

    const response = await call(t.app, 'DELETE', `/sessions/${user.userId}`);

    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), session);
    expectProblem(await call(t.app, 'GET', `/sessions/${user.userId}`), 404);
    assert.equal((await call(t.app, 'GET', '/ping')).json().sessions, live - 1);
    assert.equal((await call(t.app, 'GET', `/users/${user.userId}`)).statusCode, 200);
    assert.equal((await login(t.app, user.username, user.password)).statusCode, 201);
  });

  it('should answer 404 when the session is already closed', async () => {
    const { user } = await signUpAndLogIn(t.app);
    await call(t.app, 'DELETE', `/sessions/${user.userId}`);
    expectProblem(await call(t.app, 'DELETE', `/sessions/${user.userId}`), 404);
  });

  it('should answer 400 naming params.ownerId when the id is not a positive integer', async () => {
    expectProblem(await call(t.app, 'DELETE', '/sessions/abc'), 400, 'params.ownerId');
  });
});

describe(`GET /sessions/by-id/:sessionId (${ENGINE})`, () => {
  it('should answer 200 with the session, whatever the case of the uuid', async () => {
    const { session } = await signUpAndLogIn(t.app);
    for (const id of [session.sessionId, session.sessionId.toUpperCase()]) {
      const response = await call(t.app, 'GET', `/sessions/by-id/${id}`);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), session);
    }
  });

  for (const id of ['not-a-uuid', '12345', `${randomUUID()}0`]) {
    it(`should answer 400 naming params.sessionId when it is '${id}'`, async () => {
      expectProblem(await call(t.app, 'GET', `/sessions/by-id/${id}`), 400, 'params.sessionId');
    });
  }

  it('should answer 404 when no session has the uuid', async () => {
    expectProblem(await call(t.app, 'GET', `/sessions/by-id/${randomUUID()}`), 404);
  });
});

describe(`DELETE /sessions/by-id/:sessionId (${ENGINE})`, () => {
  it('should answer 200 with the closed session', async () => {
    const { user, session } = await signUpAndLogIn(t.app);

    const response = await call(t.app, 'DELETE', `/sessions/by-id/${session.sessionId}`);

    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), session);
    expectProblem(await call(t.app, 'GET', `/sessions/${user.userId}`), 404);
    expectProblem(await call(t.app, 'DELETE', `/sessions/by-id/${session.sessionId}`), 404);
  });

  it('should close the session when the uuid is written in upper case', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const id = session.sessionId.toUpperCase();
    assert.equal((await call(t.app, 'DELETE', `/sessions/by-id/${id}`)).statusCode, 200);
    expectProblem(await call(t.app, 'GET', `/sessions/${user.userId}`), 404);
  });

  it('should answer 400 naming params.sessionId when it is not a uuid', async () => {
    const response = await call(t.app, 'DELETE', '/sessions/by-id/42');
    expectProblem(response, 400, 'params.sessionId');
  });

  it('should answer 404 when no session has the uuid', async () => {
    expectProblem(await call(t.app, 'DELETE', `/sessions/by-id/${randomUUID()}`), 404);
  });
});

describe(`PUT /sessions/:ownerId/channel (${ENGINE})`, () => {
  it('should answer 200 with the session in its new channel server and channel', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    await call(t.app, 'PUT', `/sessions/${user.userId}`, { currentRoomId: 6 });

    const response = await call(t.app, 'PUT', `/sessions/${user.userId}/channel`, {
      channelServerIndex: 2,
      channelIndex: 5,
    });

    assert.equal(response.statusCode, 200);
    const expected = {
      ...session,
      currentChannelServerIndex: 2,
      currentChannelIndex: 5,
      currentRoomId: 6,
    };
    assert.deepEqual(response.json(), expected);
    assert.deepEqual((await call(t.app, 'GET', `/sessions/${user.userId}`)).json(), expected);
  });

  for (const [body, field] of [
    [{ channelServerIndex: 1 }, 'body.channelIndex'],
    [{ channelServerIndex: 1, channelIndex: 65536 }, 'body.channelIndex'],
    [{ channelServerIndex: -1, channelIndex: 1 }, 'body.channelServerIndex'],
  ] as const) {
    it(`should answer 400 naming ${field} when the body is ${JSON.stringify(body)}`, async () => {
      const { user } = await signUpAndLogIn(t.app);
      const before = await snapshot(t.database.storage);
      const response = await call(t.app, 'PUT', `/sessions/${user.userId}/channel`, body);
      expectProblem(response, 400, field);
      assert.equal(await snapshot(t.database.storage), before);
    });
  }
});

describe(`POST /sessions/:ownerId/holepunch (${ENGINE})`, () => {
  it('should map portId 0, 256, 512 to port index 0, 1, 2 and record both ports', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const url = `/sessions/${user.userId}/holepunch`;
    const punches = [
      { portId: 0, localPort: 27005, externalPort: 50001, portIndex: 0 },
      { portId: 256, localPort: 27015, externalPort: 50002, portIndex: 1 },
      { portId: 512, localPort: 27020, externalPort: 50003, portIndex: 2 },
    ];

    for (const { portIndex, ...body } of punches) {
      const response = await call(t.app, 'POST', url, body);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { portIndex });
    }

    const after = (await call(t.app, 'GET', `/sessions/${user.userId}`)).json();
    assert.deepEqual(after, {
      ...session,
      internalNet: { ipAddress: '0.0.0.0', clientPort: 27005, serverPort: 27015, tvPort: 27020 },
      externalNet: { ipAddress: '0.0.0.0', clientPort: 50001, serverPort: 50002, tvPort: 50003 },
    });
  });

  it('should change only its own socket when one port is punched', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    await call(t.app, 'PUT', `/sessions/${user.userId}`, {
      externalNet: EXTERNAL,
      internalNet: INTERNAL,
    });

    await call(t.app, 'POST', `/sessions/${user.userId}/holepunch`, {
      portId: 256,
      localPort: 4000,
      externalPort: 5000,
    });

    const after = (await call(t.app, 'GET', `/sessions/${user.userId}`)).json();
    assert.deepEqual(after, {
      ...session,
      internalNet: { ...INTERNAL, serverPort: 4000 },
      externalNet: { ...EXTERNAL, serverPort: 5000 },
    });
  });

  it('should answer 400 naming 0, 256 and 512 and change nothing when portId is 128', async () => {
    const { user } = await signUpAndLogIn(t.app);
    const before = await snapshot(t.database.storage);

    const response = await call(t.app, 'POST', `/sessions/${user.userId}/holepunch`, {
      portId: 128,
      localPort: 1,
      externalPort: 2,
    });

    const problem = expectProblem(response, 400, 'body.portId');
    assert.match(problem.detail, /\b0\b.*\b256\b.*\b512\b/);
    assert.equal(await snapshot(t.database.storage), before);
  });

  it('should answer 400 naming body.localPort when it is out of range', async () => {
    const { user } = await signUpAndLogIn(t.app);
    const response = await call(t.app, 'POST', `/sessions/${user.userId}/holepunch`, {
      portId: 0,
      localPort: 65536,
      externalPort: 2,
    });
    expectProblem(response, 400, 'body.localPort');
  });
});

describe(`POST /sessions/:ownerId/heartbeat (${ENGINE})`, () => {
  it('should answer 200 with the unchanged session', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const response = await call(t.app, 'POST', `/sessions/${user.userId}/heartbeat`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), session);
  });

  it('should answer 400 naming params.ownerId when the id is not a positive integer', async () => {
    const response = await call(t.app, 'POST', '/sessions/1e1/heartbeat');
    expectProblem(response, 400, 'params.ownerId');
  });
});

describe(`session routes for a user without a session (${ENGINE})`, () => {
  const routes: [method: 'GET' | 'PUT' | 'DELETE' | 'POST', path: string, body?: object][] = [
    ['GET', ''],
    ['PUT', '', { currentRoomId: 1 }],
    ['DELETE', ''],
    ['PUT', '/channel', { channelServerIndex: 1, channelIndex: 1 }],
    ['POST', '/holepunch', { portId: 0, localPort: 1, externalPort: 2 }],
    ['POST', '/heartbeat'],
  ];
  for (const [method, path, body] of routes) {
    it(`should answer 404 to ${method} /sessions/:ownerId${path}`, async () => {
      const user = await signUp(t.app);
      const before = await snapshot(t.database.storage);

      const response = await call(t.app, method, `/sessions/${user.userId}${path}`, body);

      expectProblem(response, 404);
      assert.equal(await snapshot(t.database.storage), before);
    });
  }
});
