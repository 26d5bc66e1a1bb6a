import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { hashPassword, legacyHash, verifyDummy, verifyPassword } from '../src/users/passwords.js';
import {
  call,
  ENGINE,
  expectProblem,
  insertUserRow,
  startApp,
  storedPasswordHash,
  type TestApp,
} from './helpers.js';

/** The published PBKDF2-HMAC-SHA512 vector: "password", salt "salt", 1 iteration, 64 bytes. */
const KNOWN_VECTOR =
  '867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252' +
  'c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce';

const ARGON2ID_PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/** Fastest of a few runs, in milliseconds, to compare costs without scheduler noise. */
async function fastest(runs: number, work: () => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await work();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

describe('hashPassword', () => {
  it('should answer an argon2id PHC string with the configured cost', async () => {
    assert.match(await hashPassword('correct horse'), ARGON2ID_PHC);
  });

  it('should salt every hash when the same password is hashed twice', async () => {
    assert.notEqual(await hashPassword('same-password'), await hashPassword('same-password'));
  });
});

describe('legacyHash', () => {
  it('should match the published PBKDF2-HMAC-SHA512 vector', async () => {
    assert.equal(await legacyHash('password', 'salt', 1), `1:salt:1:${KNOWN_VECTOR}`);
    const independent = pbkdf2Sync('password', 'salt', 1, 64, 'sha512').toString('hex');
    assert.equal(independent, KNOWN_VECTOR);
  });

  it('should derive from the UTF-8 bytes of the password and of the salt string', async () => {
    const password = 'pässwörd-Игрок';
    const salt = 'sälz-ソルト';
    const key = pbkdf2Sync(
      Buffer.from(password, 'utf8'),
      Buffer.from(salt, 'utf8'),
      1_000,
      64,
      'sha512',
    );
    assert.equal(await legacyHash(password, salt, 1_000), `1:${salt}:1000:${key.toString('hex')}`);
  });
});

describe('verifyPassword', () => {
  it('should accept the right password and ask no rehash when the hash is argon2id', async () => {
    const stored = await hashPassword('right-password');
    assert.deepEqual(await verifyPassword(stored, 'right-password'), {
      ok: true,
      needsRehash: false,
    });
  });

  it('should refuse a wrong password when the hash is argon2id', async () => {
    const stored = await hashPassword('right-password');
    assert.deepEqual(await verifyPassword(stored, 'Right-password'), {
      ok: false,
      needsRehash: false,
    });
  });

  it('should accept the right password and ask for a rehash when the hash is legacy', async () => {
    const stored = `1:salt:1:${KNOWN_VECTOR}`;
    assert.deepEqual(await verifyPassword(stored, 'password'), { ok: true, needsRehash: true });
  });

  it('should refuse a wrong password and ask no rehash when the hash is legacy', async () => {
    const stored = await legacyHash('right-password', 'NaCl', 100);
    assert.deepEqual(await verifyPassword(stored, 'wrong-password'), {
      ok: false,
      needsRehash: false,
    });
  });

  const unknownForms: [stored: string, why: string][] = [
    ['', 'is empty'],
    ['password', 'is the password itself'],
    [`2:salt:1:${KNOWN_VECTOR}`, 'has an unknown version'],
    [`1:salt:0:${KNOWN_VECTOR}`, 'has zero iterations'],
    [`1:salt:1:${KNOWN_VECTOR.slice(0, 64)}`, 'has a 32-byte key'],
    [`1:salt:1:${KNOWN_VECTOR}:extra`, 'has a trailing field'],
    ['$2b$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012', 'is bcrypt'],
    ['$argon2id$v=19$m=19456,t=2,p=1$broken', 'is a damaged argon2id string'],
  ];
  for (const [stored, why] of unknownForms) {
    // The vector's own password, so that only the form of the stored text can refuse it.
    it(`should never match when the stored hash ${why}`, async () => {
      assert.deepEqual(await verifyPassword(stored, 'password'), { ok: false, needsRehash: false });
    });
  }
});

describe('verifyDummy', () => {
  it('should cost about as much as checking a real argon2id hash', async () => {
    const stored = await hashPassword('some-password');
    await verifyDummy();

    const real = await fastest(3, () => verifyPassword(stored, 'other-password'));
    const dummy = await fastest(3, () => verifyDummy());

    assert.ok(dummy > real / 4, `dummy check took ${dummy} ms against ${real} ms for a real one`);
  });
});

describe(`login with a hash from the original service (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(() => t.close());

  async function importUser(userName: string, password: string): Promise<number> {
    const passwordHash = await legacyHash(password, `salt-of-${userName}`, 1_000);
    return insertUserRow(t.database.storage, { userName, playerName: userName, passwordHash });
  }

  /** The hash stored for a user of this suite's app. */
  function storedHash(userId: number): Promise<string> {
    return storedPasswordHash(t.database.storage, userId);
  }

  it('should log in on POST /sessions and replace the stored hash with argon2id', async () => {
    const password = 'old-password';
    const userId = await importUser('Veteran1', password);
    assert.match(await storedHash(userId), /^1:salt-of-Veteran1:1000:[0-9a-f]{128}$/);

    const login = await call(t.app, 'POST', '/sessions', { username: 'veteran1', password });

    assert.equal(login.statusCode, 201);
    assert.equal(login.json().userId, userId);
    const upgraded = await storedHash(userId);
    assert.ok(upgraded.startsWith('$argon2id$'), `hash is still ${upgraded.slice(0, 12)}...`);
    assert.equal((await verifyPassword(upgraded, password)).ok, true);

    await call(t.app, 'DELETE', `/sessions/${userId}`);
    const again = await call(t.app, 'POST', '/sessions', { username: 'Veteran1', password });
    assert.equal(again.statusCode, 201);
    assert.equal(await storedHash(userId), upgraded);
    const wrong = await call(t.app, 'POST', '/users/auth/validate', {
      username: 'Veteran1',
      password: 'not-the-old-password',
    });
    expectProblem(wrong, 401);
  });

  it('should upgrade the hash on POST /users/auth/validate too', async () => {
    const userId = await importUser('Veteran2', 'another-old-one');

    const response = await call(t.app, 'POST', '/users/auth/validate', {
      username: 'Veteran2',
      password: 'another-old-one',
    });

    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { userId });
    assert.ok((await storedHash(userId)).startsWith('$argon2id$'));
  });

  it('should keep the legacy hash and answer 401 when the password is wrong', async () => {
    const userId = await importUser('Veteran3', 'the-real-one');
    const before = await storedHash(userId);

    const response = await call(t.app, 'POST', '/sessions', {
      username: 'Veteran3',
      password: 'a-wrong-one',
    });

    expectProblem(response, 401);
    assert.equal(await storedHash(userId), before);
  });
});
