import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  call,
  ENGINE,
  signUp,
  signUpAndLogIn,
  snapshot,
  spawnService,
  startApp,
  type TestApp,
} from './helpers.js';

const OLD_KEY = 'old-key-0123456789abcdef0123456789abcdef';
const NEW_KEY = 'new-key-fedcba9876543210fedcba9876543210';
const SESSION = '00000000-0000-4000-8000-000000000000';

/** How long a process that should refuse to start may run before it is killed. */
const REFUSAL_TIMEOUT_MS = 20_000;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Every route of API.md that needs a key, with a body it would otherwise accept. */
const PROTECTED: [Method, string, unknown?][] = [
  ['POST', '/users', { username: 'keyless', playername: 'Keyless', password: 'secret-1' }],
  ['GET', '/users'],
  ['GET', '/users/1'],
  ['GET', '/users/byname/user1'],
  ['PUT', '/users/1', { level: 50 }],
  ['DELETE', '/users/1'],
  ['POST', '/users/auth/validate', { username: 'user1', password: 'secret-1' }],
  ['POST', '/sessions', { username: 'user1', password: 'secret-1' }],
  ['GET', '/sessions'],
  ['DELETE', '/sessions'],
  ['GET', '/sessions/1'],
  ['PUT', '/sessions/1', { currentRoomId: 7 }],
  ['DELETE', '/sessions/1'],
  ['GET', `/sessions/by-id/${SESSION}`],
  ['DELETE', `/sessions/by-id/${SESSION}`],
  ['PUT', '/sessions/1/channel', { channelServerIndex: 1, channelIndex: 2 }],
  ['POST', '/sessions/1/holepunch', { portId: 0, localPort: 1, externalPort: 2 }],
  ['POST', '/sessions/1/heartbeat'],
  ['POST', '/users/session', { username: 'user1', password: 'secret-1' }],
  ['GET', '/users/session', { userId: 1 }],
  ['PUT', '/users/session', { userId: 1, currentRoomId: 7 }],
  ['DELETE', '/users/session', { userId: 1 }],
  ['GET', '/metrics'],
  ['GET', '/no-such-route'],
];

/** Routes anyone may call, keys or not. */
const OPEN = ['/ping', '/health/live', '/health/ready', '/docs', '/docs/json'];

function assertKeyRefused(response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 401, `${what}: ${response.body}`);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/, what);
  assert.match(String(response.headers['www-authenticate']), /^Bearer realm="[^"]+"$/, what);
  const problem = response.json();
  assert.equal(problem.status, 401, what);
  assert.equal(typeof problem.detail, 'string', what);
}

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

describe(`service keys (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ serviceKeys: [OLD_KEY, NEW_KEY] });
  });
  after(() => t.close());

  it('should answer 401 with WWW-Authenticate and change nothing when no key is sent', async () => {
    await signUpAndLogIn(keyed(t, NEW_KEY));
    const before = await snapshot(t.database.storage);

    for (const [method, url, body] of PROTECTED) {
      assertKeyRefused(await call(t.app, method, url, body), `${method} ${url}`);
    }
    assert.equal(await snapshot(t.database.storage), before);
  });

  it('should answer 401 when the key is wrong, altered, cut short or lengthened', async () => {
    const wrong = [
      'x'.repeat(40),
      `${NEW_KEY.slice(0, -1)}1`,
      NEW_KEY.slice(0, -1),
      `${NEW_KEY}0`,
      NEW_KEY.toUpperCase(),
      'k',
      'k'.repeat(8_000),
    ];
    for (const key of wrong) {
      const response = await call(t.app, 'GET', '/users', undefined, bearer(key));
      assertKeyRefused(response, `key of ${key.length} characters`);
      assert.equal(response.json().code, 'invalid_service_key');
      if (key.length > 8) assert.ok(!response.body.includes(key), 'the answer echoes the key');
    }
  });

  it('should answer 401 when the Authorization header is not a bearer key', async () => {
    const headers = [
      NEW_KEY,
      `Basic ${Buffer.from(`user:${NEW_KEY}`).toString('base64')}`,
      'Bearer',
      'Bearer ',
      `Bearer ${NEW_KEY} ${NEW_KEY}`,
      `Bearer ${OLD_KEY},Bearer ${NEW_KEY}`,
      `Token ${NEW_KEY}`,
    ];
    for (const authorization of headers) {
      const response = await call(t.app, 'GET', '/users', undefined, { authorization });
      assertKeyRefused(response, `Authorization: ${authorization.slice(0, 20)}`);
    }
  });

  it('should accept each configured key when the keys are being rotated', async () => {
    for (const key of [OLD_KEY, NEW_KEY]) {
      const response = await call(t.app, 'GET', '/users', undefined, bearer(key));
      assert.equal(response.statusCode, 200, response.body);
    }
    const lowerCase = await call(t.app, 'GET', '/users', undefined, {
      authorization: `bearer ${OLD_KEY}`,
    });
    assert.equal(lowerCase.statusCode, 200, lowerCase.body);
  });

  it('should serve every API.md route when the key is right', async () => {
    const app = keyed(t, OLD_KEY);
    const { user, session } = await signUpAndLogIn(app);
    const id = user.userId;
    const expected: [Method, string, unknown, number][] = [
      ['GET', `/users/${id}`, undefined, 200],
      ['GET', `/users/byname/${user.username}`, undefined, 200],
      ['PUT', `/users/${id}`, { level: 2 }, 200],
      ['POST', '/users/auth/validate', { username: user.username, password: user.password }, 200],
      ['GET', '/sessions', undefined, 200],
      ['GET', `/sessions/${id}`, undefined, 200],
      ['GET', `/sessions/by-id/${session.sessionId}`, undefined, 200],
      ['PUT', `/sessions/${id}`, { currentRoomId: 3 }, 200],
      ['PUT', `/sessions/${id}/channel`, { channelServerIndex: 1, channelIndex: 1 }, 200],
      ['POST', `/sessions/${id}/holepunch`, { portId: 256, localPort: 1, externalPort: 2 }, 200],
      ['GET', '/users/session', { userId: id }, 200],
      ['PUT', '/users/session', { userId: id, currentRoomId: 4 }, 200],
      ['DELETE', '/users/session', { userId: id }, 200],
      ['POST', '/users/session', { username: user.username, password: user.password }, 201],
      ['DELETE', `/sessions/${id}`, undefined, 200],
      ['DELETE', '/sessions', undefined, 200],
      ['DELETE', `/users/${id}`, undefined, 200],
      ['GET', '/metrics', undefined, 200],
    ];
    for (const [method, url, body, status] of expected) {
      const response = await call(t.app, method, url, body, bearer(OLD_KEY));
      assert.equal(response.statusCode, status, `${method} ${url}: ${response.body}`);
    }
  });

  it('should answer /ping, health and the API docs without a key', async () => {
    for (const url of OPEN) {
      const response = await call(t.app, 'GET', url);
      assert.ok(response.statusCode < 400, `${url}: ${response.statusCode}`);
    }
    assert.equal((await call(t.app, 'GET', '/ping?sessions=1')).statusCode, 200);
  });

  it('should not open a protected route when its path only looks like an open one', async () => {
    const tricks = [
      '/ping/',
      '//ping',
      '/ping/../users',
      '/docs/../users',
      '/docs/..%2fusers',
      '/health/live/../../users',
      '/%70ing',
      '/PING',
      '/users?/ping',
      '/users#/ping',
      '/users;/ping',
      '/health/ready/../../sessions',
    ];
    for (const url of tricks) {
      const response = await call(t.app, 'GET', url);
      assert.ok(
        response.statusCode === 401 || response.statusCode === 404,
        `${url}: ${response.statusCode} ${response.body.slice(0, 80)}`,
      );
      assert.ok(!response.body.includes('userName'), `${url} leaked users`);
    }
  });

  it('should refuse a key that is no longer configured when rotation is over', async () => {
    const rotated = await startApp({ serviceKeys: [NEW_KEY] });
    try {
      assertKeyRefused(await call(rotated.app, 'GET', '/users', undefined, bearer(OLD_KEY)), 'old');
      const response = await call(rotated.app, 'GET', '/users', undefined, bearer(NEW_KEY));
      assert.equal(response.statusCode, 200);
    } finally {
      await rotated.close();
    }
  });

  it('should serve every route without a key when no keys are configured', async () => {
    const open = await startApp();
    try {
      const user = await signUp(open.app);
      assert.equal((await call(open.app, 'GET', `/users/${user.userId}`)).statusCode, 200);
      assert.equal((await call(open.app, 'GET', '/sessions')).statusCode, 200);
    } finally {
      await open.close();
    }
  });
});

/** The app of `t`, with every injected request carrying the given key. */
function keyed(t: TestApp, key: string): TestApp['app'] {
  return new Proxy(t.app, {
    get(target, property, receiver) {
      if (property !== 'inject') return Reflect.get(target, property, receiver);
      return (options: { headers?: Record<string, string> }) =>
        target.inject({ ...options, headers: { ...options.headers, ...bearer(key) } });
    },
  });
}

/** Runs `src/main.ts` with the given environment until it exits; answers its code and stderr. */
async function runProcess(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const service = await spawnService({ DATA_DIR: ':memory:', ...env }, { waitForLive: false });
  const timer = setTimeout(() => void service.kill(), REFUSAL_TIMEOUT_MS);
  const { code } = await service.exited;
  clearTimeout(timer);
  return { code, stderr: service.stderr() };
}

describe('service start-up', () => {
  it('should not start, saying why in one line, when a non-loopback HOST has no keys', async () => {
    const { code, stderr } = await runProcess({ HOST: '0.0.0.0' });
    assert.notEqual(code, 0);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0] ?? '', /HOST.*0\.0\.0\.0.*SERVICE_KEYS.*ALLOW_OPEN_ACCESS=true/);
  });

  it('should refuse to start with a short key without printing it', async () => {
    const short = 'short-key-of-25-characters';
    const { code, stderr } = await runProcess({ SERVICE_KEYS: `${NEW_KEY},${short}` });
    assert.notEqual(code, 0);
    assert.match(stderr, /SERVICE_KEYS/);
    assert.ok(!stderr.includes(short), stderr);
    assert.ok(!stderr.includes(NEW_KEY), stderr);
  });
});
