import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import {
  createServiceData,
  ENGINE,
  newUser,
  request,
  type ServiceData,
  type ServiceProcess,
  spawnService,
  TEST_DATABASE_URL,
} from './helpers.js';

/** Clients writing at once, and how long they write before the kill. */
const WRITERS = 8;
const WRITE_LOAD_MS = 1_500;

/** Profile updates each writer makes to the user it signed up, before the next sign-up. */
const UPDATES_PER_USER = 3;

/** What a client was told was written: the user, and the last `wins` acknowledged. */
interface Acknowledged {
  userId: number;
  userName: string;
  wins: number;
}

/** Signs users up and updates them, one request at a time, until the process dies. */
async function writer(baseUrl: string, acknowledged: Acknowledged[], stop: () => boolean) {
  for (let round = 0; round < 1_000 && !stop(); round++) {
    const user = newUser();
    const signUp = await request(baseUrl, 'POST', '/users', user).catch(() => undefined);
    if (signUp?.status !== 201) return;
    const entry = { userId: signUp.json.userId, userName: user.username, wins: 0 };
    acknowledged.push(entry);

    for (let wins = 1; wins <= UPDATES_PER_USER; wins++) {
      const update = await request(baseUrl, 'PUT', `/users/${entry.userId}`, { wins }).catch(
        () => undefined,
      );
      if (update?.status !== 200) return;
      entry.wins = wins;
    }
  }
}

describe(`SIGKILL during writes (${ENGINE})`, () => {
  let data: ServiceData;
  const spawned: ServiceProcess[] = [];

  before(async () => {
    data = await createServiceData('cso2-crash');
  });
  after(async () => {
    await Promise.all(spawned.map((service) => service.kill()));
    await data?.remove();
  });

  it('should keep every acknowledged write when the process is killed and restarted', async () => {
    const first = await spawnService(data.env);
    spawned.push(first);
    const acknowledged: Acknowledged[] = [];
    let killed = false;
    const writers = Array.from({ length: WRITERS }, () =>
      writer(first.baseUrl, acknowledged, () => killed),
    );

    await sleep(WRITE_LOAD_MS);
    first.child.kill('SIGKILL');
    killed = true;
    const { signal } = await first.exited;
    await Promise.all(writers);
    assert.equal(signal, 'SIGKILL');
    assert.ok(
      acknowledged.length >= WRITERS,
      `only ${acknowledged.length} sign-ups before the kill`,
    );

    const second = await spawnService(data.env);
    spawned.push(second);
    assert.equal((await request(second.baseUrl, 'GET', '/health/ready')).status, 200);
    for (const entry of acknowledged) {
      const user = await request(second.baseUrl, 'GET', `/users/${entry.userId}`);
      assert.equal(user.status, 200, `user ${entry.userId} survived`);
      assert.equal(user.json.userName, entry.userName);
      // The one update in flight at the kill may have landed without an answer.
      assert.ok(
        user.json.wins === entry.wins || user.json.wins === entry.wins + 1,
        `user ${entry.userId} has wins ${user.json.wins}, acknowledged ${entry.wins}`,
      );
    }
    const login = await request(second.baseUrl, 'POST', '/sessions', {
      username: acknowledged[0]?.userName,
      password: newUser().password.replace(/\d+$/, ''),
    });
    assert.equal(login.status, 401, 'the restarted service answers logins');
  });

  it('should leave the embedded data folder consistent when the process is killed', {
    skip: TEST_DATABASE_URL ? 'the embedded database is not under test' : false,
  }, async () => {
    await Promise.all(spawned.map((service) => service.kill()));
    const database = new SQLite(join(data.dataDir as string, 'users.sqlite'), { readonly: true });
    try {
      assert.equal(database.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(database.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      database.close();
    }
  });
});
