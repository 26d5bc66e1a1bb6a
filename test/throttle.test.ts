import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../src/app.js';
import {
  createServiceData,
  ENGINE,
  request,
  type ServiceData,
  type ServiceProcess,
  signUp,
  spawnService,
  startApp,
  TEST_DATABASE_URL,
  type TestApp,
  testConfig,
} from './helpers.js';

const MAX_FAILURES = 3;
const WINDOW_SECONDS = 600;

/** The three routes that check a password; each must be throttled alike. */
const LOGIN_ROUTES = ['/sessions', '/users/session', '/users/auth/validate'] as const;

function login(
  app: FastifyInstance,
  route: string,
  username: string,
  password: string,
  remoteAddress = '10.0.0.1',
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: route,
    remoteAddress,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ username, password }),
  });
}

/** Checks a 429 problem with a Retry-After of whole seconds within the window. */
function assertThrottled(response: LightMyRequestResponse): number {
  assert.equal(response.statusCode, 429, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal(response.json().status, 429);
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter), `retry-after ${response.headers['retry-after']}`);
  assert.ok(retryAfter >= 1 && retryAfter <= WINDOW_SECONDS, `retry-after ${retryAfter}`);
  return retryAfter;
}

describe(`login throttle (${ENGINE})`, () => {
  let t: TestApp;
  let clock: number;
  const limits = {
    loginMaxFailures: MAX_FAILURES,
    loginWindow: WINDOW_SECONDS,
    loginMaxFailuresPerAddress: 1_000,
  };

  // One app for the suite: every test uses user names of its own, and the
  // tests with an address ceiling of their own build their own app.
  before(async () => {
    clock = Date.parse('2026-01-01T00:00:00Z');
    t = await startApp(limits, { now: () => clock });
  });
  after(() => t.close());

  /** An app of its own with different limits, closed after the test. */
  async function startOwn(overrides: Partial<typeof limits>) {
    const own = await startApp({ ...limits, ...overrides }, { now: () => clock });
    owned.push(own);
    return own;
  }
  const owned: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(owned.splice(0).map((own) => own.close()));
  });

  for (const route of LOGIN_ROUTES) {
    const condition = `a user name fails too often on POST ${route}`;
    it(`should answer 429 with Retry-After when ${condition}`, async () => {
      const user = await signUp(t.app);
      for (let i = 0; i < MAX_FAILURES; i++) {
        assert.equal((await login(t.app, route, user.username, 'wrong-password')).statusCode, 401);
      }

      assertThrottled(await login(t.app, route, user.username, 'wrong-password'));
      assertThrottled(await login(t.app, route, user.username, user.password));
    });
  }

  it('should count failures on every login route against the same user name', async () => {
    const user = await signUp(t.app);
    for (const route of LOGIN_ROUTES) {
      assert.equal((await login(t.app, route, user.username, 'wrong-password')).statusCode, 401);
    }
    for (const route of LOGIN_ROUTES) {
      assertThrottled(await login(t.app, route, user.username, user.password));
    }
  });

  it('should count a user name without regard to case', async () => {
    const user = await signUp(t.app, { username: 'CaseUser' });
    for (const name of ['caseuser', 'CASEUSER', 'CaseUser']) {
      assert.equal((await login(t.app, '/sessions', name, 'wrong-password')).statusCode, 401);
    }
    assertThrottled(await login(t.app, '/sessions', 'cAsEuSeR', user.password));
  });

  it('should throttle an unknown user name like a known one', async () => {
    const known = await signUp(t.app);
    const answers: Record<string, LightMyRequestResponse> = {};
    for (const name of [known.username, 'nobody1']) {
      for (let i = 0; i < MAX_FAILURES; i++) await login(t.app, '/sessions', name, 'wrong-pass');
      answers[name] = await login(t.app, '/sessions', name, 'wrong-pass');
      assertThrottled(answers[name]);
    }
    assert.deepEqual(answers[known.username]?.json(), answers.nobody1?.json());
  });

  it('should let other users of the same address log in when one user name is locked', async () => {
    const victim = await signUp(t.app);
    const other = await signUp(t.app);
    for (let i = 0; i <= MAX_FAILURES; i++) {
      await login(t.app, '/sessions', victim.username, 'wrong-password');
    }
    assertThrottled(await login(t.app, '/sessions', victim.username, victim.password));

    const response = await login(t.app, '/sessions', other.username, other.password);
    assert.equal(response.statusCode, 201, response.body);
  });

  it('should lock an address only above its own ceiling when many names fail from it', async () => {
    const own = await startOwn({ loginMaxFailuresPerAddress: 8 });
    const user = await signUp(own.app);
    for (let i = 0; i < 8; i++) {
      const response = await login(own.app, '/users/auth/validate', `spray${i}`, 'wrong-password');
      assert.equal(response.statusCode, 401, `attempt ${i}: ${response.body}`);
    }

    assertThrottled(await login(own.app, '/sessions', user.username, user.password));
    const elsewhere = await login(own.app, '/sessions', user.username, user.password, '10.0.0.2');
    assert.equal(elsewhere.statusCode, 201, elsewhere.body);
  });

  it('should not count successful logins against the address ceiling', async () => {
    const own = await startOwn({ loginMaxFailuresPerAddress: 2 });
    const user = await signUp(own.app);
    for (let i = 0; i < 5; i++) {
      const response = await login(own.app, '/users/auth/validate', user.username, user.password);
      assert.equal(response.statusCode, 200, `login ${i}: ${response.body}`);
    }
  });

  it('should clear the failures of a user name when a login succeeds', async () => {
    const user = await signUp(t.app);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < MAX_FAILURES - 1; i++) {
        const response = await login(t.app, '/users/auth/validate', user.username, 'wrong-pw');
        assert.equal(response.statusCode, 401, `round ${round}: ${response.body}`);
      }
      const ok = await login(t.app, '/users/auth/validate', user.username, user.password);
      assert.equal(ok.statusCode, 200, `round ${round}: ${ok.body}`);
    }
  });

  it('should let the user in again when the window has passed', async () => {
    const user = await signUp(t.app);
    for (let i = 0; i < MAX_FAILURES; i++) {
      await login(t.app, '/users/auth/validate', user.username, 'wrong-password');
    }
    const retryAfter = assertThrottled(await login(t.app, '/sessions', user.username, 'x'));
    assert.equal(retryAfter, WINDOW_SECONDS);

    clock += 100_000;
    const later = assertThrottled(await login(t.app, '/sessions', user.username, user.password));
    assert.equal(later, WINDOW_SECONDS - 100);

    clock += (WINDOW_SECONDS - 100) * 1_000;
    const response = await login(t.app, '/users/auth/validate', user.username, user.password);
    assert.equal(response.statusCode, 200, response.body);
  });

  it('should start a new count after the window when failures continue', async () => {
    const user = await signUp(t.app);
    for (let i = 0; i < MAX_FAILURES; i++) {
      await login(t.app, '/users/auth/validate', user.username, 'wrong-password');
    }
    clock += WINDOW_SECONDS * 1_000;
    const fresh = await login(t.app, '/users/auth/validate', user.username, 'wrong-password');
    assert.equal(fresh.statusCode, 401, fresh.body);
    const next = await login(t.app, '/users/auth/validate', user.username, user.password);
    assert.equal(next.statusCode, 200, next.body);
  });

  it('should verify no more than the limit when many guesses arrive at once', async () => {
    const user = await signUp(t.app);
    const guesses = Array.from({ length: 20 }, (_, i) =>
      login(t.app, '/users/auth/validate', user.username, `guess-${i}`),
    );
    const statuses = (await Promise.all(guesses)).map((response) => response.statusCode);
    assert.equal(statuses.filter((status) => status === 401).length, MAX_FAILURES, `${statuses}`);
    assert.equal(statuses.filter((status) => status === 429).length, 20 - MAX_FAILURES);
  });

  it('should keep the counts in the database so that another app on it sees them', async () => {
    const user = await signUp(t.app);
    const twin = await buildApp({
      config: testConfig(limits),
      storage: t.database.storage,
      logger: false,
      now: () => clock,
    });
    try {
      for (let i = 0; i < MAX_FAILURES; i++) {
        const app = i % 2 === 0 ? t.app : twin;
        await login(app, '/users/auth/validate', user.username, 'wrong-password');
      }
      assertThrottled(await login(twin, '/sessions', user.username, user.password));
      assertThrottled(await login(t.app, '/sessions', user.username, user.password));
    } finally {
      await twin.close();
    }
  });
});

describe('login throttle across two processes (postgres)', () => {
  const skip = TEST_DATABASE_URL
    ? false
    : 'needs TEST_DATABASE_URL: two processes share PostgreSQL';
  let data: ServiceData | undefined;
  let services: ServiceProcess[] = [];
  let bases: string[] = [];

  before(async () => {
    if (skip) return;
    data = await createServiceData('cso2-throttle');
    const env = {
      ...data.env,
      LOG_LEVEL: 'warn',
      LOGIN_MAX_FAILURES: String(MAX_FAILURES + 1),
    };
    services = await Promise.all([spawnService(env), spawnService(env)]);
    bases = services.map((service) => service.baseUrl);
  });
  after(async () => {
    await Promise.all(services.map((service) => service.kill()));
    await data?.remove();
  });

  it('should answer 429 on one process when failures were spread over both', { skip }, async () => {
    const [first = '', second = ''] = bases;
    const user = { username: 'shared1', playername: 'Shared One', password: 'right-password' };
    assert.equal((await request(first, 'POST', '/users', user)).status, 201);

    for (let i = 0; i <= MAX_FAILURES; i++) {
      const base = i % 2 === 0 ? first : second;
      const answer = await request(base, 'POST', '/sessions', {
        username: 'shared1',
        password: 'wrong-1',
      });
      assert.equal(answer.status, 401, `attempt ${i} on ${base}`);
    }
    const locked = await request(second, 'POST', '/sessions', {
      username: 'shared1',
      password: user.password,
    });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    const alsoLocked = await request(first, 'POST', '/users/auth/validate', {
      username: 'shared1',
      password: user.password,
    });
    assert.equal(alsoLocked.status, 429);
  });
});
