import type { Compilable, Kysely, Updateable } from 'kysely';
import { PreparedShapes, prepare } from '../db/prepared.js';
import type { Database, SessionRow, SessionsTable } from '../db/tables.js';

/** The columns a session update may write. */
export type SessionChanges = Omit<Updateable<SessionsTable>, 'userId' | 'sessionId' | 'createdAt'>;

/** Optional lobby filters of a session listing. */
export interface SessionFilter {
  channelServerIndex?: number;
  channelIndex?: number;
  roomId?: number;
}

type Statement = (...args: unknown[]) => Promise<SessionRow[]>;

/**
 * SQL for the sessions table. With an idle timeout, a row not updated within
 * it is treated as absent by every method, and replaced by the next login.
 * The statements master servers send for every player (reads, updates, hole
 * punches, channel listings) are compiled once; see `prepare`.
 */
export class SessionStore {
  private readonly byOwner: Statement;
  private readonly updates = new PreparedShapes<unknown[], SessionRow>();
  private readonly pages = new PreparedShapes<unknown[], SessionRow>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly idleTimeoutSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.byOwner = this.prepare(1, ([userId], cutoff) =>
      this.live(
        db
          .selectFrom('sessions')
          .selectAll()
          .where('userId', '=', userId as number),
        cutoff,
      ),
    );
  }

  /**
   * Opens a session unless the user has a live one; returns undefined then.
   * One statement, so two logins racing cannot both succeed.
   */
  create(userId: number, sessionId: string): Promise<SessionRow | undefined> {
    const now = this.timestamp();
    const cutoff = this.cutoff();
    return this.db
      .insertInto('sessions')
      .values({ userId, sessionId, createdAt: now, updatedAt: now })
      .onConflict((conflict) => {
        const target = conflict.column('userId');
        if (cutoff === undefined) return target.doNothing();
        return target
          .doUpdateSet((eb) => ({
            sessionId: eb.ref('excluded.sessionId'),
            externalIpAddress: '0.0.0.0',
            externalClientPort: 0,
            externalServerPort: 0,
            externalTvPort: 0,
            internalIpAddress: '0.0.0.0',
            internalClientPort: 0,
            internalServerPort: 0,
            internalTvPort: 0,
            currentChannelServerIndex: 0,
            currentChannelIndex: 0,
            currentRoomId: 0,
            createdAt: now,
            updatedAt: now,
          }))
          .where('sessions.updatedAt', '<', cutoff);
      })
      .returningAll()
      .executeTakeFirst();
  }

  async find(userId: number): Promise<SessionRow | undefined> {
    const [row] = await this.byOwner(userId, this.cutoff());
    return row;
  }

  findBySessionId(sessionId: string): Promise<SessionRow | undefined> {
    return this.live(
      this.db.selectFrom('sessions').selectAll().where('sessionId', '=', sessionId),
    ).executeTakeFirst();
  }

  /** One page of live sessions in owner order, optionally in one channel or room. */
  list(offset: number, length: number, filter: SessionFilter): Promise<SessionRow[]> {
    const { channelServerIndex, channelIndex, roomId } = filter;
    const filters = [channelServerIndex, channelIndex, roomId];
    const values = filters.filter((value) => value !== undefined);
    const shape = filters.map((value) => (value === undefined ? '-' : '=')).join();
    const page = this.pages.get(shape, () =>
      this.prepare(2 + values.length, ([pageOffset, pageLength, ...equal], cutoff) => {
        let query = this.live(this.db.selectFrom('sessions').selectAll(), cutoff);
        const next = () => equal.shift() as number;
        if (channelServerIndex !== undefined) {
          query = query.where('currentChannelServerIndex', '=', next());
        }
        if (channelIndex !== undefined) query = query.where('currentChannelIndex', '=', next());
        if (roomId !== undefined) query = query.where('currentRoomId', '=', next());
        return query
          .orderBy('userId')
          .limit(pageLength as number)
          .offset(pageOffset as number);
      }),
    );
    return page(offset, length, ...values, this.cutoff());
  }

  /** Writes the given columns (and marks activity); undefined if there is no live session. */
  async update(userId: number, changes: SessionChanges): Promise<SessionRow | undefined> {
    const columns = Object.keys(changes) as Array<keyof SessionChanges>;
    const update = this.updates.get(columns.join(), () =>
      this.prepare(2 + columns.length, ([id, updatedAt, ...values], cutoff) => {
        const set = Object.fromEntries(columns.map((column, i) => [column, values[i]]));
        const query = this.db
          .updateTable('sessions')
          .set({ ...set, updatedAt: updatedAt as string })
          .where('userId', '=', id as number);
        return this.live(query, cutoff).returningAll();
      }),
    );
    const [row] = await update(userId, this.timestamp(), ...Object.values(changes), this.cutoff());
    return row;
  }

  /** Deletes a live session by owner; returns it, or undefined if there was none. */
  remove(userId: number): Promise<SessionRow | undefined> {
    return this.live(this.db.deleteFrom('sessions').where('userId', '=', userId))
      .returningAll()
      .executeTakeFirst();
  }

  /** Deletes a live session by its own id. */
  removeBySessionId(sessionId: string): Promise<SessionRow | undefined> {
    return this.live(this.db.deleteFrom('sessions').where('sessionId', '=', sessionId))
      .returningAll()
      .executeTakeFirst();
  }

  /** Deletes every session, live or stale; returns how many went. */
  async removeAll(): Promise<number> {
    const result = await this.db.deleteFrom('sessions').executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** How many live sessions there are. */
  async count(): Promise<number> {
    const row = await this.live(
      this.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number | string>().as('n')),
    ).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Deletes sessions idle past the timeout; returns how many went. */
  async sweepIdle(): Promise<number> {
    const cutoff = this.cutoff();
    if (cutoff === undefined) return 0;
    const result = await this.db
      .deleteFrom('sessions')
      .where('updatedAt', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Prepares a statement of `arity` arguments, plus the idle cutoff as the
   * last one when an idle timeout is set (callers always pass `cutoff()`).
   */
  private prepare(
    arity: number,
    build: (args: unknown[], cutoff: string | undefined) => Compilable<SessionRow>,
  ): Statement {
    const timed = this.idleTimeoutSeconds > 0;
    return prepare(this.db, arity + (timed ? 1 : 0), (...args: unknown[]) =>
      build(args.slice(0, arity), timed ? (args[arity] as string) : undefined),
    );
  }

  /** Adds the "still live" condition to a query when an idle timeout is set. */
  private live<Q extends { where: WhereUpdatedAt<Q> }>(query: Q, cutoff = this.cutoff()): Q {
    return cutoff === undefined ? query : query.where('updatedAt', '>=', cutoff);
  }

  private cutoff(): string | undefined {
    if (this.idleTimeoutSeconds === 0) return undefined;
    return new Date(this.now() - this.idleTimeoutSeconds * 1_000).toISOString();
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }
}

type WhereUpdatedAt<Q> = (column: 'updatedAt', op: '>=', value: string) => Q;
