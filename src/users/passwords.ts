import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Hashes run in the libuv thread pool (four threads). More hashes at once than
 * cores gains nothing, while each argon2id hash holds 19 MiB: one per core
 * keeps the rate and halves the memory a login storm takes.
 */
const HASHES_AT_ONCE = availableParallelism();
const hashing = pLimit(HASHES_AT_ONCE);

/**
 * argon2id with OWASP's first recommended setting (19 MiB, two passes, one
 * lane): about 150 hashes a second on two cores, in the libuv thread pool.
 */
export const ARGON2_OPTIONS = {
  // @node-rs/argon2 declares its Algorithm enum as an ambient const enum that
  // exists only in its types; 2 is its value for Argon2id.
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * A lone surrogate (`"\ud800"` in JSON) is no character: hashing would turn
 * every one of them into U+FFFD, so passwords differing only there would match.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether a password is text that hashes to what was typed. */
export function isWellFormedPassword(password: string): boolean {
  return !LONE_SURROGATE.test(password);
}

/** The original service stored `1:<salt>:<iterations>:<hex of a 64-byte PBKDF2-SHA512 key>`. */
const LEGACY_HASH = /^1:([^:]*):([1-9][0-9]{0,7}):([0-9a-f]{128})$/i;

/** The original service's key length in bytes. */
const LEGACY_KEY_BYTES = 64;

/** What checking a password against a stored hash found. */
export interface Verification {
  ok: boolean;
  /** The stored hash is of an old form and should be replaced now that the password is known. */
  needsRehash: boolean;
}

/** Hashes a new password with argon2id; the result is a PHC string. */
export function hashPassword(password: string): Promise<string> {
  return hashing(() => hash(password, ARGON2_OPTIONS));
}

/**
 * Checks a password against a stored hash of either form. Both forms run off
 * the event loop. A hash of an unknown form never matches.
 */
export async function verifyPassword(stored: string, password: string): Promise<Verification> {
  if (stored.startsWith('$argon2')) {
    const ok = await hashing(() => verify(stored, password)).catch(() => false);
    return { ok, needsRehash: false };
  }
  const legacy = LEGACY_HASH.exec(stored);
  if (legacy) {
    const [, salt = '', iterations = '0', hex = ''] = legacy;
    const key = await hashing(() =>
      pbkdf2Async(password, salt, Number(iterations), LEGACY_KEY_BYTES, 'sha512'),
    );
    const ok = timingSafeEqual(key, Buffer.from(hex, 'hex'));
    return { ok, needsRehash: ok };
  }
  return { ok: false, needsRehash: false };
}

/** Builds a hash in the original service's form; used to import or test old accounts. */
export async function legacyHash(password: string, salt: string, iterations: number) {
  const key = await pbkdf2Async(password, salt, iterations, LEGACY_KEY_BYTES, 'sha512');
  return `1:${salt}:${iterations}:${key.toString('hex')}`;
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as checking a real password, so that an unknown user
 * name cannot be told from a wrong password by the time the answer takes.
 */
export async function verifyDummy(): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const stored = await dummyHash;
  await hashing(() => verify(stored, 'not the password'));
}
