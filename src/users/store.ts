import type { Kysely, Updateable } from 'kysely';
import { prepare } from '../db/prepared.js';
import type { Database, NewUserRow, UserRow, UsersTable } from '../db/tables.js';

/** The columns a profile update may write. */
export type UserChanges = Omit<Updateable<UsersTable>, 'id' | 'createdAt' | 'userName'>;

/** SQL for the users table; knows nothing of HTTP. Profile reads are compiled once. */
export class UserStore {
  private readonly byId: (id: number) => Promise<UserRow[]>;

  constructor(private readonly db: Kysely<Database>) {
    this.byId = prepare(db, 1, (id: number) =>
      db.selectFrom('users').selectAll().where('id', '=', id),
    );
  }

  /** Inserts a user and returns the new id; unique violations propagate. */
  async insert(user: NewUserRow): Promise<number> {
    const row = await this.db
      .insertInto('users')
      .values(user)
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async findById(id: number): Promise<UserRow | undefined> {
    const [row] = await this.byId(id);
    return row;
  }

  findByNameKey(userNameKey: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('userNameKey', '=', userNameKey)
      .executeTakeFirst();
  }

  /** One page of users in id order, names only. */
  list(offset: number, length: number) {
    return this.db
      .selectFrom('users')
      .select(['id', 'userName', 'playerName'])
      .orderBy('id')
      .limit(length)
      .offset(offset)
      .execute();
  }

  /** Writes the given columns and returns the new row, or undefined if the user is gone. */
  update(id: number, changes: UserChanges): Promise<UserRow | undefined> {
    return this.db
      .updateTable('users')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Replaces a password hash only if it is still the one that was checked, so
   * that an upgrade after login never overwrites a password changed meanwhile.
   */
  async replaceHash(id: number, oldHash: string, newHash: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ passwordHash: newHash })
      .where('id', '=', id)
      .where('passwordHash', '=', oldHash)
      .execute();
  }

  /** Deletes a user (the session goes with it); false if there was none. */
  async remove(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
