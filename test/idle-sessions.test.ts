import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { call, ENGINE, signUpAndLogIn, startApp, type TestApp } from './helpers.js';

/** The idle timeout these tests configure, in seconds. */
const IDLE_SECONDS = 60;

/** A clock the tests move by hand, starting at a fixed instant. */
function manualClock() {
  let now = Date.parse('2026-01-01T00:00:00Z');
  return {
    now: () => now,
    advance: (seconds: number) => {
      now += seconds * 1_000;
    },
  };
}

describe(`SESSION_IDLE_TIMEOUT (${ENGINE})`, () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function start(sessionIdleTimeout: number) {
    const clock = manualClock();
    t = await startApp({ sessionIdleTimeout }, { now: clock.now });
    return { app: t.app, clock };
  }

  it('should keep a quiet session for ever when the timeout is 0', async () => {
    const { app, clock } = await start(0);
    const { user } = await signUpAndLogIn(app);

    clock.advance(365 * 24 * 3_600);
    assert.equal((await call(app, 'GET', `/sessions/${user.userId}`)).statusCode, 200);
    assert.equal((await call(app, 'GET', '/ping')).json().sessions, 1);
  });

  it('should treat a session as gone when its last update is older than the timeout', async () => {
    const { app, clock } = await start(IDLE_SECONDS);
    const { user, session } = await signUpAndLogIn(app);

    clock.advance(IDLE_SECONDS);
    assert.equal((await call(app, 'GET', `/sessions/${user.userId}`)).statusCode, 200);
    clock.advance(1);

    const byOwner = await call(app, 'GET', `/sessions/${user.userId}`);
    assert.equal(byOwner.statusCode, 404);
    assert.equal(byOwner.json().code, 'session_not_found');
    const byId = await call(app, 'GET', `/sessions/by-id/${session.sessionId}`);
    assert.equal(byId.statusCode, 404);
    assert.deepEqual((await call(app, 'GET', '/sessions')).json(), []);
    assert.equal((await call(app, 'GET', '/ping')).json().sessions, 0);
    const update = await call(app, 'PUT', `/sessions/${user.userId}`, { currentRoomId: 3 });
    assert.equal(update.statusCode, 404);
    assert.equal((await call(app, 'DELETE', `/sessions/${user.userId}`)).statusCode, 404);
    const legacy = await call(app, 'GET', '/users/session', { userId: user.userId });
    assert.equal(legacy.statusCode, 404);
  });

  it('should replace an idle session with a fresh one when the user logs in again', async () => {
    const { app, clock } = await start(IDLE_SECONDS);
    const { user, session } = await signUpAndLogIn(app);
    const punch = { portId: 0, localPort: 27_005, externalPort: 40_000 };
    await call(app, 'POST', `/sessions/${user.userId}/holepunch`, punch);

    const credentials = { username: user.username, password: user.password };
    assert.equal((await call(app, 'POST', '/sessions', credentials)).statusCode, 409);
    clock.advance(IDLE_SECONDS + 1);
    const login = await call(app, 'POST', '/sessions', credentials);

    assert.equal(login.statusCode, 201);
    const fresh = login.json();
    assert.notEqual(fresh.sessionId, session.sessionId);
    assert.equal(fresh.userId, user.userId);
    assert.equal(fresh.externalNet.clientPort, 0, 'nothing of the old session is kept');
    assert.equal(fresh.internalNet.clientPort, 0);
    const old = await call(app, 'GET', `/sessions/by-id/${session.sessionId}`);
    assert.equal(old.statusCode, 404);
    assert.equal((await call(app, 'GET', '/ping')).json().sessions, 1);
  });

  it('should count any session update as activity', async () => {
    const { app, clock } = await start(IDLE_SECONDS);
    const { user } = await signUpAndLogIn(app);
    const owner = `/sessions/${user.userId}`;
    const updates: Array<[method: 'PUT' | 'POST', url: string, body: unknown]> = [
      ['PUT', owner, { currentRoomId: 4 }],
      ['PUT', `${owner}/channel`, { channelServerIndex: 1, channelIndex: 2 }],
      ['POST', `${owner}/holepunch`, { portId: 256, localPort: 27_015, externalPort: 40_001 }],
      ['PUT', '/users/session', { userId: user.userId, currentRoomId: 5 }],
    ];

    for (const [method, url, body] of updates) {
      clock.advance(IDLE_SECONDS - 5);
      const answer = await call(app, method, url, body);
      assert.equal(answer.statusCode, 200, `${method} ${url}`);
    }
    clock.advance(IDLE_SECONDS - 5);
    const session = await call(app, 'GET', owner);
    assert.equal(session.statusCode, 200);
    assert.equal(session.json().currentRoomId, 5);
  });

  it('should not count reads as activity', async () => {
    const { app, clock } = await start(IDLE_SECONDS);
    const { user } = await signUpAndLogIn(app);

    clock.advance(IDLE_SECONDS - 5);
    assert.equal((await call(app, 'GET', `/sessions/${user.userId}`)).statusCode, 200);
    clock.advance(10);
    assert.equal((await call(app, 'GET', `/sessions/${user.userId}`)).statusCode, 404);
  });
});

describe(`POST /sessions/:ownerId/heartbeat (${ENGINE})`, () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('should keep a quiet session alive when heartbeats arrive within the timeout', async () => {
    const clock = manualClock();
    t = await startApp({ sessionIdleTimeout: IDLE_SECONDS }, { now: clock.now });
    const { user, session } = await signUpAndLogIn(t.app);

    for (let beat = 0; beat < 5; beat++) {
      clock.advance(IDLE_SECONDS - 1);
      const answer = await call(t.app, 'POST', `/sessions/${user.userId}/heartbeat`);
      assert.equal(answer.statusCode, 200);
      assert.deepEqual(answer.json(), session, 'a heartbeat changes nothing else');
    }
    assert.equal((await call(t.app, 'GET', '/ping')).json().sessions, 1);
  });

  it('should answer 404 when the session already went idle', async () => {
    const clock = manualClock();
    t = await startApp({ sessionIdleTimeout: IDLE_SECONDS }, { now: clock.now });
    const { user } = await signUpAndLogIn(t.app);

    clock.advance(IDLE_SECONDS + 1);
    const answer = await call(t.app, 'POST', `/sessions/${user.userId}/heartbeat`);
    assert.equal(answer.statusCode, 404);
    assert.match(String(answer.headers['content-type']), /application\/problem\+json/);
    assert.equal((await call(t.app, 'GET', `/sessions/${user.userId}`)).statusCode, 404);
  });

  it('should answer 404 when the user has no session', async () => {
    t = await startApp();
    const answer = await call(t.app, 'POST', '/sessions/4242/heartbeat');
    assert.equal(answer.statusCode, 404);
    assert.equal(answer.json().code, 'session_not_found');
  });

  it('should answer 400 when the owner id is not a positive integer', async () => {
    t = await startApp();
    const answer = await call(t.app, 'POST', '/sessions/0/heartbeat');
    assert.equal(answer.statusCode, 400);
    assert.equal(answer.json().field, 'params.ownerId');
  });
});

describe(`idle session sweep (${ENGINE})`, () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('should delete idle rows, not live ones, when the background sweep runs', async (context) => {
    const clock = manualClock();
    context.mock.timers.enable({ apis: ['setInterval'] });
    t = await startApp({ sessionIdleTimeout: IDLE_SECONDS }, { now: clock.now });
    const idle = await signUpAndLogIn(t.app);
    clock.advance(IDLE_SECONDS / 2);
    const live = await signUpAndLogIn(t.app);
    clock.advance(IDLE_SECONDS / 2 + 1);

    const rows = () =>
      t?.database.storage.db.selectFrom('sessions').select('userId').orderBy('userId').execute();
    assert.equal((await rows())?.length, 2, 'nothing is deleted before the sweep');
    context.mock.timers.tick(60_000);
    const deadline = Date.now() + 2_000;
    while ((await rows())?.length !== 1 && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }

    assert.deepEqual(await rows(), [{ userId: live.user.userId }]);
    assert.notEqual(idle.user.userId, live.user.userId);
    const again = await call(t.app, 'POST', '/sessions', {
      username: idle.user.username,
      password: idle.user.password,
    });
    assert.equal(again.statusCode, 201);
  });
});
