import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApp, REDACTED_PATHS } from '../src/app.js';
import { legacyHash } from '../src/users/passwords.js';
import {
  call,
  createTestDatabase,
  ENGINE,
  signUp,
  startApp,
  type TestApp,
  testConfig,
} from './helpers.js';

const SERVICE_KEY = 'secrets-test-key-5f0c2b7e9d1a4c3b8e6f';
const PASSWORD = 'first-Pa55word!';
const NEW_PASSWORD = 'second-Pa55word?';
const WRONG_PASSWORD = 'wrong-Pa55word#';
const LEGACY_PASSWORD = 'legacy-Pa55word%';

/** A pino logger at `level` that keeps every line it writes, with the service's redaction. */
function capturingLogger(level: string) {
  const lines: string[] = [];
  const logger = pino(
    { level, redact: REDACTED_PATHS },
    { write: (line: string) => lines.push(line) },
  );
  return { logger, lines };
}

/** Fails if any text holds any of the secrets; names the secret and the text. */
function assertNoSecret(texts: string[], secrets: string[], where: string): void {
  for (const text of texts) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${where} carries "${secret.slice(0, 12)}...": ${text}`);
    }
  }
}

/**
 * Signs up, logs in on every login route, fails logins, changes the password,
 * sends malformed and refused requests carrying the password, and answers
 * every response the app gave.
 */
async function fullCycle(
  app: FastifyInstance,
  userName: string,
): Promise<LightMyRequestResponse[]> {
  const key = { authorization: `Bearer ${SERVICE_KEY}` };
  const answers: LightMyRequestResponse[] = [];
  const send = async (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    headers = key,
  ) => {
    const response = await call(app, method, url, body, headers);
    answers.push(response);
    return response;
  };
  const credentials = (password: string) => ({ username: userName, password });

  const signUp = await send('POST', '/users', {
    username: userName,
    playername: `Secret ${userName}`,
    password: PASSWORD,
  });
  assert.equal(signUp.statusCode, 201, signUp.body);
  const { userId } = signUp.json();

  assert.equal((await send('POST', '/users/auth/validate', credentials(PASSWORD))).statusCode, 200);
  assert.equal((await send('POST', '/sessions', credentials(PASSWORD))).statusCode, 201);
  assert.equal((await send('DELETE', `/sessions/${userId}`)).statusCode, 200);
  assert.equal((await send('POST', '/users/session', credentials(PASSWORD))).statusCode, 201);
  assert.equal((await send('POST', '/sessions', credentials(WRONG_PASSWORD))).statusCode, 401);
  const unknown = { username: 'nosuchusr', password: WRONG_PASSWORD };
  assert.equal((await send('POST', '/users/auth/validate', unknown)).statusCode, 401);

  const change = await send('PUT', `/users/${userId}`, { password: NEW_PASSWORD });
  assert.equal(change.statusCode, 200, change.body);
  assert.equal((await send('POST', '/users/auth/validate', credentials(PASSWORD))).statusCode, 401);
  const again = await send('POST', '/users/auth/validate', credentials(NEW_PASSWORD));
  assert.equal(again.statusCode, 200);

  assert.equal((await send('GET', `/users/${userId}`)).statusCode, 200);
  assert.equal((await send('GET', `/users/byname/${userName}`)).statusCode, 200);
  assert.equal((await send('GET', '/users')).statusCode, 200);

  // Refused requests that carry a password: bad fields, bad JSON, no key.
  const refused: [string, unknown][] = [
    ['/users', { username: 'x', playername: 'Refused', password: PASSWORD }],
    ['/users', { username: userName, playername: 'Taken', password: NEW_PASSWORD }],
    ['/users', { username: 'tooLong', playername: 'Long', password: `${PASSWORD}`.repeat(20) }],
    ['/sessions', { username: userName, password: NEW_PASSWORD, extra: PASSWORD }],
    ['/users/auth/validate', { username: userName, password: [NEW_PASSWORD] }],
  ];
  for (const [url, body] of refused) {
    assert.ok((await send('POST', url, body)).statusCode >= 400, url);
  }
  const putWrong = await send('PUT', `/users/${userId}`, { password: PASSWORD, hash: PASSWORD });
  assert.equal(putWrong.statusCode, 400);
  const badJson = await app.inject({
    method: 'POST',
    url: '/sessions',
    headers: { ...key, 'content-type': 'application/json' },
    payload: `{"username":"${userName}","password":"${NEW_PASSWORD}"`,
  });
  answers.push(badJson);
  assert.equal(badJson.statusCode, 400);
  const noKey = await send('POST', '/sessions', credentials(NEW_PASSWORD), {
    authorization: `Bearer ${NEW_PASSWORD}${NEW_PASSWORD}${NEW_PASSWORD}`,
  });
  assert.equal(noKey.statusCode, 401);
  return answers;
}

describe(`secrets in answers and logs (${ENGINE})`, () => {
  for (const level of ['debug', 'trace']) {
    it(`should never log or answer a password, hash or key when logging at ${level}`, async () => {
      const database = await createTestDatabase();
      const { logger, lines } = capturingLogger(level);
      const app = await buildApp({
        config: testConfig({ serviceKeys: [SERVICE_KEY], logLevel: level }),
        storage: database.storage,
        logger,
      });
      try {
        await app.ready();
        app.log.info({ config: testConfig({ serviceKeys: [SERVICE_KEY] }) }, 'configuration');
        const answers = await fullCycle(app, `sec${level}`);

        // An account imported from the original service, upgraded at its first login.
        const legacy = await legacyHash(LEGACY_PASSWORD, 'salt', 1_000);
        const playerName = `Legacy ${level}`;
        await database.storage.db
          .insertInto('users')
          .values({
            userName: `old${level}`,
            userNameKey: `old${level}`,
            playerName,
            playerNameKey: playerName.toLowerCase(),
            passwordHash: legacy,
            createdAt: new Date().toISOString(),
          })
          .execute();
        const upgrade = await call(
          app,
          'POST',
          '/users/auth/validate',
          { username: `old${level}`, password: LEGACY_PASSWORD },
          { authorization: `Bearer ${SERVICE_KEY}` },
        );
        assert.equal(upgrade.statusCode, 200, upgrade.body);
        answers.push(upgrade);

        const hashes = await database.storage.db
          .selectFrom('users')
          .select('passwordHash')
          .execute();
        const secrets = [
          PASSWORD,
          NEW_PASSWORD,
          WRONG_PASSWORD,
          LEGACY_PASSWORD,
          SERVICE_KEY,
          '$argon2',
          legacy,
          legacy.split(':')[3] ?? legacy,
          ...hashes.map((row) => row.passwordHash),
        ];
        assert.ok(hashes.every((row) => row.passwordHash.startsWith('$argon2id$')));

        // A database that fails mid-request makes the service log an error.
        await database.storage.close();
        const failed = await call(
          app,
          'POST',
          '/users/auth/validate',
          { username: `sec${level}`, password: NEW_PASSWORD },
          { authorization: `Bearer ${SERVICE_KEY}` },
        );
        assert.ok(failed.statusCode >= 500, failed.body);
        answers.push(failed);

        assert.ok(lines.length > 20, `only ${lines.length} log lines at ${level}`);
        assert.ok(lines.some((line) => line.includes('"request answered"')));
        assert.ok(lines.some((line) => line.includes('"level":50') || line.includes('503')));
        assertNoSecret(lines, secrets, `a ${level} log line`);
        assertNoSecret(
          answers.map((answer) => answer.body),
          secrets,
          'an answer',
        );
        assertNoSecret(
          answers.map((answer) => JSON.stringify(answer.headers)),
          secrets,
          'an answer header',
        );
      } finally {
        await app.close();
        await database.drop().catch(() => {});
      }
    });
  }

  it('should redact passwords, hashes, keys and the Authorization header when logged', () => {
    const { logger, lines } = capturingLogger('info');
    logger.info(
      {
        password: PASSWORD,
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
        body: { password: NEW_PASSWORD },
        user: { passwordHash: '$argon2id$v=19$other' },
        serviceKeys: [SERVICE_KEY],
        config: { serviceKeys: [SERVICE_KEY] },
        req: { headers: { authorization: `Bearer ${SERVICE_KEY}` } },
      },
      'everything secret',
    );
    assert.equal(lines.length, 1);
    assertNoSecret(lines, [PASSWORD, NEW_PASSWORD, SERVICE_KEY, '$argon2'], 'the log line');
    assert.match(lines[0] ?? '', /\[Redacted\]/);
  });
});

/** Rounds of each kind of failed login the timing comparison measures. */
const TIMING_ROUNDS = 25;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe(`unknown user and wrong password (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    // Limits high enough that no measured attempt is answered 429.
    t = await startApp({ loginMaxFailures: 1_000, loginMaxFailuresPerAddress: 100_000 });
  });
  after(() => t.close());

  it('should give the same answer when the user is unknown or the password wrong', async () => {
    const user = await signUp(t.app);
    for (const route of ['/sessions', '/users/session', '/users/auth/validate']) {
      const wrong = await call(t.app, 'POST', route, {
        username: user.username,
        password: WRONG_PASSWORD,
      });
      const unknown = await call(t.app, 'POST', route, {
        username: 'ghost42',
        password: WRONG_PASSWORD,
      });
      const tooShort = await call(t.app, 'POST', route, { username: user.username, password: 'x' });
      assert.equal(wrong.statusCode, 401, route);
      for (const other of [unknown, tooShort]) {
        assert.equal(other.statusCode, wrong.statusCode, route);
        assert.equal(other.body, wrong.body, route);
        assert.equal(other.headers['content-type'], wrong.headers['content-type'], route);
      }
    }
  });

  it('should take equal time within noise when the user is unknown or password wrong', async () => {
    const user = await signUp(t.app);
    const attempt = async (username: string) => {
      const started = process.hrtime.bigint();
      const response = await call(t.app, 'POST', '/users/auth/validate', {
        username,
        password: WRONG_PASSWORD,
      });
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      assert.equal(response.statusCode, 401);
      return elapsed;
    };
    // Warm up: the dummy hash is made at the first unknown name.
    await attempt('warmup1');
    await attempt(user.username);

    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let round = 0; round < TIMING_ROUNDS; round++) {
      // Alternate, so that a burst of load elsewhere falls on both kinds.
      unknown.push(await attempt(`ghost${round}`));
      wrong.push(await attempt(user.username));
    }
    const ratio = median(unknown) / median(wrong);
    // Skipping the hash for unknown names would make the ratio a few hundredths.
    assert.ok(
      ratio > 0.5 && ratio < 2,
      `unknown ${median(unknown).toFixed(2)} ms, wrong ${median(wrong).toFixed(2)} ms`,
    );
  });
});
