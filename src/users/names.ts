import { PLAYER_NAME_MAX_LENGTH, USER_NAME_PATTERN } from '../limits.js';

/**
 * Characters a player name may not hold: control, format (zero-width and
 * direction marks), private-use, unassigned and surrogate code points, line
 * and paragraph separators, and everything Unicode marks as ignorable
 * (Hangul fillers, variation selectors), and the blank Braille pattern, which
 * would let two names look alike or a name look empty.
 */
const INVISIBLE = /[\p{C}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** A combining mark with nothing to combine with draws on whatever is shown before the name. */
const LEADING_MARK = /^\p{M}/u;

/** Other spaces than the plain one (no-break, ideographic, ...) are refused too. */
const ODD_SPACE = /[^\P{Zs} ]/u;

const USER_NAME = new RegExp(USER_NAME_PATTERN);

/**
 * The user name key that no account can have, for logins with a name that
 * breaks the sign-up pattern: such text (control characters included) is
 * never looked up or stored as typed.
 */
export const IMPOSSIBLE_USER_NAME_KEY = '';

/** Whether a login name has the form sign-up accepts, and so could exist. */
export function isUserName(userName: string): boolean {
  return USER_NAME.test(userName);
}

/** The key under which login names are unique: ASCII, so lower case is enough. */
export function userNameKey(userName: string): string {
  return userName.toLowerCase();
}

/**
 * The key under which player names are unique: NFKC folds look-alike forms
 * (full-width letters, ligatures), and the lower-upper-lower round trip
 * stands for Unicode case folding (ß, ẞ and ss; final and medial sigma).
 * Checked against full case folding over every code point, it misses no
 * pair that folding makes equal; it also joins a few that folding keeps
 * apart (dotless ı and i), which only refuses more look-alike names.
 */
export function playerNameKey(playerName: string): string {
  return playerName.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}

/** Why a player name is refused, or undefined when it is acceptable. */
export function playerNameProblem(playerName: string): string | undefined {
  const length = [...playerName].length;
  if (length < 1 || length > PLAYER_NAME_MAX_LENGTH) {
    return `must be 1 to ${PLAYER_NAME_MAX_LENGTH} characters long`;
  }
  if (INVISIBLE.test(playerName) || ODD_SPACE.test(playerName)) {
    return 'must not contain invisible, control, format or private-use characters';
  }
  if (LEADING_MARK.test(playerName)) return 'must not start with a combining mark';
  // NFKC turns some characters into a space and a mark (U+00A8 is " ̈").
  const normalized = playerName.normalize('NFKC');
  if (playerName.trim() !== playerName || normalized.trim() !== normalized) {
    return 'must not start or end with a space';
  }
  return undefined;
}
