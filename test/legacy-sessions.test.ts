import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  call,
  defaultSession,
  ENGINE,
  expectProblem,
  signUp,
  signUpAndLogIn,
  snapshot,
  startApp,
  type TestApp,
} from './helpers.js';

const EXTERNAL = { ipAddress: '198.51.100.4', clientPort: 27005, serverPort: 27015, tvPort: 27020 };

let t: TestApp;
before(async () => {
  // Three failures lock a user name out; only the 429 test gets there.
  t = await startApp({ loginMaxFailures: 3 });
});
after(() => t.close());

describe(`POST /users/session (${ENGINE})`, () => {
  it('should answer 201 with a new default session when the credentials are right', async () => {
    const user = await signUp(t.app);

    const response = await call(t.app, 'POST', '/users/session', {
      username: user.username.toUpperCase(),
      password: user.password,
    });

    assert.equal(response.statusCode, 201);
    const session = response.json();
    assert.match(session.sessionId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      session,
      defaultSession({ sessionId: session.sessionId, userId: user.userId }),
    );
    assert.deepEqual((await call(t.app, 'GET', `/sessions/${user.userId}`)).json(), session);
  });

  it('should answer 401 when the password is wrong', async () => {
    const user = await signUp(t.app);
    const response = await call(t.app, 'POST', '/users/session', {
      username: user.username,
      password: 'wrong-password',
    });
    expectProblem(response, 401);
  });

  it('should answer 409 when the user already has a live session', async () => {
    const { user } = await signUpAndLogIn(t.app);
    const response = await call(t.app, 'POST', '/users/session', {
      username: user.username,
      password: user.password,
    });
    expectProblem(response, 409);
  });

  it('should answer 400 naming body.password when it is missing', async () => {
    const response = await call(t.app, 'POST', '/users/session', { username: 'someone' });
    expectProblem(response, 400, 'body.password');
  });

  it('should answer 429 to the right password once the user name is locked out', async () => {
    const user = await signUp(t.app);
    const attempt = (password: string) =>
      call(t.app, 'POST', '/users/session', { username: user.username, password });
    for (let i = 0; i < 3; i += 1) expectProblem(await attempt('wrong!'), 401);

    expectProblem(await attempt(user.password), 429);
  });
});

describe(`GET /users/session (${ENGINE})`, () => {
  it('should answer 200 with the session of the user the JSON body names', async () => {
    const first = await signUpAndLogIn(t.app);
    const second = await signUpAndLogIn(t.app);

    for (const { user, session } of [first, second]) {
      const response = await call(t.app, 'GET', '/users/session', { userId: user.userId });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), session);
    }
  });

  it('should answer 400 naming the body when there is no body', async () => {
    await signUpAndLogIn(t.app);
    expectProblem(await call(t.app, 'GET', '/users/session'), 400, 'body');
  });

  for (const [body, why] of [
    [{}, 'no userId'],
    [{ userId: '1' }, 'the userId as text'],
    [{ userId: 0 }, 'userId 0'],
    [{ userId: 1, extra: true }, 'an unknown field'],
  ] as const) {
    it(`should answer 400 when the body holds ${why}`, async () => {
      expectProblem(await call(t.app, 'GET', '/users/session', body), 400, 'body');
    });
  }

  it('should answer 404 when the user has no session', async () => {
    const user = await signUp(t.app);
    expectProblem(await call(t.app, 'GET', '/users/session', { userId: user.userId }), 404);
  });
});

describe(`PUT /users/session (${ENGINE})`, () => {
  it('should merge the partial session into the one the body names', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    await call(t.app, 'PUT', '/users/session', { userId: user.userId, externalNet: EXTERNAL });

    const response = await call(t.app, 'PUT', '/users/session', {
      userId: user.userId,
      externalNet: { clientPort: 5 },
      currentRoomId: 12,
    });

    assert.equal(response.statusCode, 200);
    const expected = { ...session, externalNet: { ...EXTERNAL, clientPort: 5 }, currentRoomId: 12 };
    assert.deepEqual(response.json(), expected);
    assert.deepEqual((await call(t.app, 'GET', `/sessions/${user.userId}`)).json(), expected);
  });

  it('should accept the whole session echoed back', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const response = await call(t.app, 'PUT', '/users/session', {
      ...session,
      currentChannelServerIndex: 3,
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { ...session, currentChannelServerIndex: 3 });
    assert.equal(response.json().userId, user.userId);
  });

  for (const [patch, field] of [
    [{ sessionId: randomUUID() }, 'body.sessionId'],
    [{ externalNet: { ipAddress: '999.1.1.1' } }, 'body.externalNet.ipAddress'],
    [{ internalNet: { serverPort: 70000 } }, 'body.internalNet.serverPort'],
    [{ lobby: 1 }, 'body.lobby'],
  ] as const) {
    it(`should answer 400 naming ${field} and change nothing when it is refused`, async () => {
      const { user } = await signUpAndLogIn(t.app);
      const before = await snapshot(t.database.storage);

      const response = await call(t.app, 'PUT', '/users/session', {
        userId: user.userId,
        currentRoomId: 4,
        ...patch,
      });

      expectProblem(response, 400, field);
      assert.equal(await snapshot(t.database.storage), before);
    });
  }

  it('should answer 400 naming body.userId when it is missing', async () => {
    const response = await call(t.app, 'PUT', '/users/session', { currentRoomId: 1 });
    expectProblem(response, 400, 'body.userId');
  });

  it('should answer 404 when the user has no session', async () => {
    const user = await signUp(t.app);
    const response = await call(t.app, 'PUT', '/users/session', {
      userId: user.userId,
      currentRoomId: 1,
    });
    expectProblem(response, 404);
  });
});

describe(`DELETE /users/session (${ENGINE})`, () => {
  it('should answer 200 with the closed session of the user the JSON body names', async () => {
    const { user, session } = await signUpAndLogIn(t.app);
    const other = await signUpAndLogIn(t.app);

    const response = await call(t.app, 'DELETE', '/users/session', { userId: user.userId });

    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), session);
    expectProblem(await call(t.app, 'GET', '/users/session', { userId: user.userId }), 404);
    const kept = await call(t.app, 'GET', '/users/session', { userId: other.user.userId });
    assert.equal(kept.statusCode, 200);
  });

  it('should answer 404 when the session is already closed', async () => {
    const { user } = await signUpAndLogIn(t.app);
    await call(t.app, 'DELETE', '/users/session', { userId: user.userId });
    expectProblem(await call(t.app, 'DELETE', '/users/session', { userId: user.userId }), 404);
  });

  it('should answer 400 and close nothing when there is no body', async () => {
    await signUpAndLogIn(t.app);
    const before = await snapshot(t.database.storage);
    expectProblem(await call(t.app, 'DELETE', '/users/session'), 400, 'body');
    assert.equal(await snapshot(t.database.storage), before);
  });
});
