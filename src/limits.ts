/**
 * The numbers that keep the service safe and the game client working, in one
 * place so that a reviewer can check them together.
 */

/** The game client crashes on login names outside 3..10 ASCII letters or digits. */
export const USER_NAME_PATTERN = '^[A-Za-z0-9]{3,10}$';

/** Player names are shown in the lobby; 32 characters fits the scoreboard. */
export const PLAYER_NAME_MAX_LENGTH = 32;

/** Short passwords are guessed in minutes; the upper bound caps hashing work. */
export const PASSWORD_MIN_LENGTH = 6;
export const PASSWORD_MAX_LENGTH = 128;

/** Request bodies are a few hundred bytes; anything this large is an attack. */
export const BODY_LIMIT_BYTES = 16 * 1_024;

/**
 * A login field may be as long as a body allows: API.md says a login with a
 * password of the wrong length simply fails, so it gets 401, not 400.
 */
export const LOGIN_FIELD_MAX_LENGTH = BODY_LIMIT_BYTES;

/** Login names longer than this cannot exist; the router's own path segment limit. */
export const PATH_NAME_MAX_LENGTH = 100;

/** Ids are PostgreSQL `integer` columns. */
export const MAX_ID = 2_147_483_647;

/** UDP ports. */
export const MAX_PORT = 65_535;

/** Channel servers, channels and rooms are 16-bit numbers in the game protocol. */
export const MAX_LOBBY_INDEX = 65_535;

/** Page sizes: larger pages are answered 413, as the original service did. */
export const USERS_PAGE_MAX = 100;
export const SESSIONS_PAGE_MAX = 25;

/** Offsets past this are refused; nobody pages through more rows than ids exist. */
export const MAX_OFFSET = MAX_ID;

/** Profile counters (wins, kills, experience...) fit a PostgreSQL `integer`. */
export const MAX_COUNTER = MAX_ID;

/** The longest textual IPv6 address (with an embedded IPv4 tail) is 45 characters. */
export const IP_ADDRESS_MAX_LENGTH = 45;

/** Level and VIP level ranges of the game client. */
export const MIN_LEVEL = 1;
export const MAX_LEVEL = 99;
export const MAX_VIP_LEVEL = 7;

/** A PostgreSQL statement gets this long to settle; past it the request is answered 503. */
export const DATABASE_TIMEOUT_MS = 5_000;
