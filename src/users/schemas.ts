import { type Static, Type } from '@sinclair/typebox';
import { CountText, IdText } from '../http/schemas.js';
import {
  LOGIN_FIELD_MAX_LENGTH,
  MAX_COUNTER,
  MAX_ID,
  MAX_LEVEL,
  MAX_VIP_LEVEL,
  MIN_LEVEL,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PATH_NAME_MAX_LENGTH,
  PLAYER_NAME_MAX_LENGTH,
  USER_NAME_PATTERN,
} from '../limits.js';

const Counter = Type.Integer({ minimum: 0, maximum: MAX_COUNTER });
const UserId = Type.Integer({ minimum: 1, maximum: MAX_ID });
const UserName = Type.String({ pattern: USER_NAME_PATTERN, maxLength: 10 });
const PlayerName = Type.String({ minLength: 1, maxLength: PLAYER_NAME_MAX_LENGTH });
const NewPassword = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
});

/** The profile fields a client may write; each is optional in an update. */
const profile = {
  level: Type.Integer({ minimum: MIN_LEVEL, maximum: MAX_LEVEL }),
  avatar: Type.Integer({ minimum: 0, maximum: MAX_COUNTER }),
  curExp: Counter,
  maxExp: Counter,
  rank: Counter,
  vipLevel: Type.Integer({ minimum: 0, maximum: MAX_VIP_LEVEL }),
  wins: Counter,
  losses: Counter,
  kills: Counter,
  deaths: Counter,
  assists: Counter,
};

/** A user as every route answers it; the password hash is never part of it. */
export const User = Type.Object(
  {
    userId: UserId,
    userName: Type.String(),
    playerName: Type.String(),
    ...profile,
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);
export type User = Static<typeof User>;

export const UserSummary = Type.Object({
  userId: UserId,
  userName: Type.String(),
  playerName: Type.String(),
});

export const SignUpBody = Type.Object(
  { username: UserName, playername: PlayerName, password: NewPassword },
  { additionalProperties: false },
);
export type SignUpBody = Static<typeof SignUpBody>;

/** A partial profile; `userId`, `userName` and `createdAt` are echoes, checked against the row. */
export const UserUpdateBody = Type.Partial(
  Type.Object({
    userId: UserId,
    userName: Type.String({ maxLength: 10 }),
    createdAt: Type.String({ maxLength: 40 }),
    playerName: PlayerName,
    password: NewPassword,
    ...profile,
  }),
  { additionalProperties: false },
);
export type UserUpdateBody = Static<typeof UserUpdateBody>;
export type ProfileField = keyof typeof profile;
export const PROFILE_FIELDS = Object.keys(profile) as ProfileField[];

/**
 * Credentials at login. Any length up to a bound is accepted here: a password
 * outside the sign-up range simply fails to match, as API.md says.
 */
export const Credentials = Type.Object(
  {
    username: Type.String({ maxLength: LOGIN_FIELD_MAX_LENGTH }),
    password: Type.String({ maxLength: LOGIN_FIELD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;

export const UserIdParams = Type.Object({ userId: IdText });
export const UserNameParams = Type.Object({
  username: Type.String({ maxLength: PATH_NAME_MAX_LENGTH }),
});
export const PageQuery = Type.Object({
  offset: Type.Optional(CountText),
  length: Type.Optional(CountText),
});
export const UserIdAnswer = Type.Object({ userId: UserId });
