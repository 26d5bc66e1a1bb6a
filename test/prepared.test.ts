import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PreparedShapes, prepare } from '../src/db/prepared.js';
import { createTestDatabase, ENGINE, insertUserRows, type TestDatabase } from './helpers.js';

describe(`prepare (${ENGINE})`, () => {
  let database: TestDatabase;
  let ids: number[];

  before(async () => {
    database = await createTestDatabase();
    ids = await insertUserRows(database.storage, 'prepared', 3);
  });

  after(() => database.drop());

  it('should run each call with its own values when compiled once', async () => {
    const { db } = database.storage;
    const byLevel = prepare(db, 2, (id: number, level: number) =>
      db
        .selectFrom('users')
        .select(['id', 'level'])
        .where('id', '=', id)
        .where('level', '=', level),
    );

    const [first = 0, second = 0] = ids;

    assert.deepEqual(await byLevel(first, 1), [{ id: first, level: 1 }]);
    assert.deepEqual(await byLevel(second, 1), [{ id: second, level: 1 }]);
    assert.deepEqual(await byLevel(second, 7), []);
  });

  it('should keep constants written into the statement', async () => {
    const { db } = database.storage;
    const levelTo = prepare(db, 2, (id: number, level: number) =>
      db
        .updateTable('users')
        .set({ level, avatar: 1234 })
        .where('id', '=', id)
        .returning(['id', 'level', 'avatar']),
    );

    const [, second = 0, third = 0] = ids;

    assert.deepEqual(await levelTo(second, 40), [{ id: second, level: 40, avatar: 1234 }]);
    assert.deepEqual(await levelTo(third, 41), [{ id: third, level: 41, avatar: 1234 }]);
  });

  it('should refuse a statement that leaves an argument out', () => {
    const { db } = database.storage;

    const build = (id: number) => db.selectFrom('users').selectAll().where('id', '=', id);

    // @ts-expect-error the arity type refuses this too; the check must hold at run time as well
    assert.throws(() => prepare(db, 2, build), /lost argument 1/);
  });
});

describe('PreparedShapes', () => {
  it('should prepare each shape once and start over past its limit', () => {
    const shapes = new PreparedShapes<[], number>(2);
    let prepared = 0;
    const create = () => {
      prepared += 1;
      return async () => [prepared];
    };

    const first = shapes.get('a', create);
    assert.equal(shapes.get('a', create), first);
    shapes.get('b', create);
    shapes.get('c', create);
    assert.notEqual(shapes.get('a', create), first);
    assert.equal(prepared, 4);
  });
});
