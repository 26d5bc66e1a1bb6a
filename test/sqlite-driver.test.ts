import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openStorage, type Storage } from '../src/db/dialect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { insertUserRow } from './helpers.js';

/** Imports a user; a batch of these sent in one turn is committed together. */
function importUser(storage: Storage, name: string): Promise<number> {
  return insertUserRow(storage, { userName: name, playerName: name, passwordHash: 'imported' });
}

async function storedNames(storage: Storage): Promise<string[]> {
  const rows = await storage.db.selectFrom('users').select('userName').orderBy('id').execute();
  return rows.map((row) => row.userName);
}

describe('SQLite group commit', () => {
  let storage: Storage;

  beforeEach(async () => {
    storage = openStorage({ kind: 'sqlite', file: ':memory:' });
    await migrateToLatest(storage.db);
  });

  afterEach(() => storage.close());

  it('should keep the other writes of a batch when one of them fails', async () => {
    const outcomes = await Promise.allSettled([
      importUser(storage, 'first'),
      importUser(storage, 'FIRST'),
      importUser(storage, 'second'),
    ]);

    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(await storedNames(storage), ['first', 'second']);
  });

  it('should acknowledge no write that is lost when the disk is full', async () => {
    await importUser(storage, 'before');
    const pages = await sql<{ pageCount: number }>`pragma page_count`.execute(storage.db);
    const full = pages.rows[0]?.pageCount ?? 0;
    assert.ok(full > 0, 'the page count was read');
    await sql.raw(`pragma max_page_count = ${full}`).execute(storage.db);

    const names = Array.from({ length: 40 }, (_, i) => `user${i}${'x'.repeat(300)}`);
    const outcomes = await Promise.allSettled(names.map((name) => importUser(storage, name)));

    const acknowledged = names.filter((_, i) => outcomes[i]?.status === 'fulfilled');
    assert.ok(
      outcomes.some((outcome) => outcome.status === 'rejected'),
      'the full disk refused something',
    );
    assert.deepEqual(await storedNames(storage), ['before', ...acknowledged]);
  });
});
