import type { Generated, Insertable, Selectable } from 'kysely';

/** Timestamps travel as ISO-8601 strings; PostgreSQL hands back `Date` objects. */
export type Timestamp = string | Date;

/** One account. Names are kept as typed; the `*Key` columns carry the uniqueness. */
export interface UsersTable {
  id: Generated<number>;
  userName: string;
  userNameKey: string;
  playerName: string;
  playerNameKey: string;
  passwordHash: string;
  level: Generated<number>;
  avatar: Generated<number>;
  curExp: Generated<number>;
  maxExp: Generated<number>;
  rank: Generated<number>;
  vipLevel: Generated<number>;
  wins: Generated<number>;
  losses: Generated<number>;
  kills: Generated<number>;
  deaths: Generated<number>;
  assists: Generated<number>;
  createdAt: Timestamp;
}

/** One live session; `userId` is the primary key, so a user has at most one. */
export interface SessionsTable {
  userId: number;
  sessionId: string;
  externalIpAddress: Generated<string>;
  externalClientPort: Generated<number>;
  externalServerPort: Generated<number>;
  externalTvPort: Generated<number>;
  internalIpAddress: Generated<string>;
  internalClientPort: Generated<number>;
  internalServerPort: Generated<number>;
  internalTvPort: Generated<number>;
  currentChannelServerIndex: Generated<number>;
  currentChannelIndex: Generated<number>;
  currentRoomId: Generated<number>;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/** Recent failed logins, by user name key (`user:...`) or address (`addr:...`). */
export interface LoginFailuresTable {
  subject: string;
  failures: number;
  windowStart: Timestamp;
}

/** Every table, as Kysely sees them (camelCase here, snake_case in SQL). */
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  loginFailures: LoginFailuresTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
