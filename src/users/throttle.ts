import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/tables.js';
import { TooManyAttempts } from '../http/errors.js';

/** How many failures open a lock-out, and for how long failures are counted. */
export interface ThrottleLimits {
  maxFailures: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
}

/**
 * Counts failed logins per user name and per address in the database, so that
 * every process on one PostgreSQL sees the same counts. Every login of a game
 * server arrives from the master server's address, so the address limit is a
 * high ceiling against spraying many names, and the user limit does the rest.
 *
 * Logins of one user name take turns within a process (see `oneAtATime`), so
 * concurrent guesses cannot all pass `check` before the first failure is
 * counted. Across processes, each may have one guess in flight, so a burst
 * gets at most one extra guess a process past the limit.
 */
export class LoginThrottle {
  /** The last login of each user name in flight in this process; the next one waits for it. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly limits: ThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs one login of a user name after the ones already in flight for that
   * name have finished, so each sees the failures of those before it.
   */
  async oneAtATime<T>(userNameKey: string, login: () => Promise<T>): Promise<T> {
    const previous = this.inFlight.get(userNameKey);
    let finish = () => {};
    const turn = new Promise<void>((resolve) => {
      finish = resolve;
    });
    this.inFlight.set(userNameKey, turn);
    try {
      await previous;
      return await login();
    } finally {
      finish();
      if (this.inFlight.get(userNameKey) === turn) this.inFlight.delete(userNameKey);
    }
  }

  /**
   * Throws TooManyAttempts while the user name or the address is locked out;
   * otherwise tells whether the user name has failures to clear on success.
   */
  async check(userNameKey: string, address: string): Promise<boolean> {
    const subjects = [userSubject(userNameKey), addressSubject(address)];
    const rows = await this.db
      .selectFrom('loginFailures')
      .selectAll()
      .where('subject', 'in', subjects)
      .where('windowStart', '>', this.windowCutoff())
      .execute();
    let userFailures = false;
    for (const row of rows) {
      const isUser = row.subject === subjects[0];
      const limit = isUser ? this.limits.maxFailures : this.limits.maxFailuresPerAddress;
      if (row.failures >= limit) throw new TooManyAttempts(this.secondsLeft(row.windowStart));
      userFailures ||= isUser;
    }
    return userFailures;
  }

  /** Counts one failed login against the user name and the address. */
  async recordFailure(userNameKey: string, address: string): Promise<void> {
    const now = new Date(this.now()).toISOString();
    const cutoff = this.windowCutoff();
    const expired = sql<boolean>`login_failures.window_start <= ${cutoff}`;
    await this.db
      .insertInto('loginFailures')
      .values([
        { subject: userSubject(userNameKey), failures: 1, windowStart: now },
        { subject: addressSubject(address), failures: 1, windowStart: now },
      ])
      .onConflict((conflict) =>
        conflict.column('subject').doUpdateSet({
          failures: sql`case when ${expired} then 1 else login_failures.failures + 1 end`,
          windowStart: sql`case when ${expired} then ${now} else login_failures.window_start end`,
        }),
      )
      .execute();
  }

  /** Forgets the user name's failures after a successful login. */
  async clear(userNameKey: string): Promise<void> {
    await this.db
      .deleteFrom('loginFailures')
      .where('subject', '=', userSubject(userNameKey))
      .execute();
  }

  /** Deletes counters whose window has passed; returns how many went. */
  async sweep(): Promise<number> {
    const result = await this.db
      .deleteFrom('loginFailures')
      .where('windowStart', '<=', this.windowCutoff())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * A window that started at or before this instant is over, so a client that
   * waits the Retry-After it was given is let in.
   */
  private windowCutoff(): string {
    return new Date(this.now() - this.limits.windowSeconds * 1_000).toISOString();
  }

  private secondsLeft(windowStart: string | Date): number {
    const end = new Date(windowStart).getTime() + this.limits.windowSeconds * 1_000;
    return Math.max(1, Math.ceil((end - this.now()) / 1_000));
  }
}

function userSubject(userNameKey: string): string {
  return `user:${userNameKey}`;
}

function addressSubject(address: string): string {
  return `addr:${address}`;
}
