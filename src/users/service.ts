import { uniqueViolation } from '../db/faults.js';
import type { UserRow } from '../db/tables.js';
import { conflict, invalidField, notFound, wrongCredentials } from '../http/errors.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../limits.js';
import {
  IMPOSSIBLE_USER_NAME_KEY,
  isUserName,
  playerNameKey,
  playerNameProblem,
  userNameKey,
} from './names.js';
import { hashPassword, isWellFormedPassword, verifyDummy, verifyPassword } from './passwords.js';
import { PROFILE_FIELDS, type SignUpBody, type User, type UserUpdateBody } from './schemas.js';
import type { UserChanges, UserStore } from './store.js';
import type { LoginThrottle } from './throttle.js';

/** The rules about accounts: sign-up, profile changes and credential checks. */
export class UserService {
  constructor(
    private readonly store: UserStore,
    private readonly throttle: LoginThrottle,
  ) {}

  /** Creates an account and returns its id; 409 if either name is taken. */
  async signUp(body: SignUpBody): Promise<number> {
    const problem = playerNameProblem(body.playername);
    if (problem) throw invalidField('body.playername', problem);
    checkNewPassword(body.password, 'body.password');

    const passwordHash = await hashPassword(body.password);
    try {
      return await this.store.insert({
        userName: body.username,
        userNameKey: userNameKey(body.username),
        playerName: body.playername,
        playerNameKey: playerNameKey(body.playername),
        passwordHash,
        createdAt: new Date().toISOString(),
      });
    } catch (error) {
      throw translateNameConflict(error, 'body.username', 'body.playername');
    }
  }

  async get(userId: number): Promise<User> {
    const row = await this.store.findById(userId);
    if (!row) throw notFound('user');
    return toUser(row);
  }

  async getByName(userName: string): Promise<User> {
    if (!isUserName(userName)) throw notFound('user');
    const row = await this.store.findByNameKey(userNameKey(userName));
    if (!row) throw notFound('user');
    return toUser(row);
  }

  async list(offset: number, length: number) {
    const rows = await this.store.list(offset, length);
    return rows.map((row) => ({
      userId: row.id,
      userName: row.userName,
      playerName: row.playerName,
    }));
  }

  /** Applies a partial profile; echoed read-only fields must hold their current values. */
  async update(userId: number, body: UserUpdateBody): Promise<User> {
    const current = await this.store.findById(userId);
    if (!current) throw notFound('user');
    checkEchoes(current, body);

    const changes: UserChanges = {};
    for (const field of PROFILE_FIELDS) {
      if (body[field] !== undefined) changes[field] = body[field];
    }
    if (body.playerName !== undefined) {
      const problem = playerNameProblem(body.playerName);
      if (problem) throw invalidField('body.playerName', problem);
      changes.playerName = body.playerName;
      changes.playerNameKey = playerNameKey(body.playerName);
    }
    if (body.password !== undefined) {
      checkNewPassword(body.password, 'body.password');
      changes.passwordHash = await hashPassword(body.password);
    }
    if (Object.keys(changes).length === 0) return toUser(current);

    const row = await this.store.update(userId, changes).catch((error: unknown) => {
      throw translateNameConflict(error, 'body.userName', 'body.playerName');
    });
    if (!row) throw notFound('user');
    return toUser(row);
  }

  async remove(userId: number): Promise<void> {
    if (!(await this.store.remove(userId))) throw notFound('user');
  }

  /**
   * Checks a login and returns the user's id. Unknown names and wrong passwords
   * fail alike, in the same time; a legacy hash is upgraded on success. A name
   * that breaks the sign-up pattern cannot exist, so it is counted under one
   * shared throttle key and never reaches the database as typed.
   */
  async authenticate(userName: string, password: string, address: string): Promise<number> {
    const key = isUserName(userName) ? userNameKey(userName) : IMPOSSIBLE_USER_NAME_KEY;
    return this.throttle.oneAtATime(key, () => this.checkPassword(key, password, address));
  }

  private async checkPassword(key: string, password: string, address: string): Promise<number> {
    const hadFailures = await this.throttle.check(key, address);

    const row = await this.store.findByNameKey(key);
    // Code points, as the sign-up schema counts them, not UTF-16 units.
    const length = [...password].length;
    const plausible =
      length >= PASSWORD_MIN_LENGTH &&
      length <= PASSWORD_MAX_LENGTH &&
      isWellFormedPassword(password);
    if (!row || !plausible) {
      await verifyDummy();
      await this.throttle.recordFailure(key, address);
      throw wrongCredentials();
    }

    const { ok, needsRehash } = await verifyPassword(row.passwordHash, password);
    if (!ok) {
      await this.throttle.recordFailure(key, address);
      throw wrongCredentials();
    }
    if (hadFailures) await this.throttle.clear(key);
    if (needsRehash)
      await this.store.replaceHash(row.id, row.passwordHash, await hashPassword(password));
    return row.id;
  }
}

function checkNewPassword(password: string, field: string): void {
  if (!isWellFormedPassword(password)) {
    throw invalidField(field, 'must not contain an unpaired surrogate (\\ud800 to \\udfff)');
  }
}

/** Turns a user row into the answer shape, leaving the hash and the keys behind. */
export function toUser(row: UserRow): User {
  return {
    userId: row.id,
    userName: row.userName,
    playerName: row.playerName,
    level: row.level,
    avatar: row.avatar,
    curExp: row.curExp,
    maxExp: row.maxExp,
    rank: row.rank,
    vipLevel: row.vipLevel,
    wins: row.wins,
    losses: row.losses,
    kills: row.kills,
    deaths: row.deaths,
    assists: row.assists,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

function checkEchoes(current: UserRow, body: UserUpdateBody): void {
  if (body.userId !== undefined && body.userId !== current.id) {
    throw invalidField('body.userId', 'cannot change');
  }
  if (body.userName !== undefined && body.userName !== current.userName) {
    throw invalidField('body.userName', 'cannot change');
  }
  const createdAt = new Date(current.createdAt).toISOString();
  if (body.createdAt !== undefined && body.createdAt !== createdAt) {
    throw invalidField('body.createdAt', 'cannot change');
  }
}

function translateNameConflict(error: unknown, userField: string, playerField: string): unknown {
  const constraint = uniqueViolation(error);
  if (constraint === undefined) return error;
  if (constraint.includes('player_name')) {
    return conflict('player_name_taken', `${playerField} is taken`, playerField);
  }
  if (constraint.includes('user_name')) {
    return conflict('user_name_taken', `${userField} is taken`, userField);
  }
  // Another key, such as an id that an import took without moving the id sequence.
  return error;
}
