import { hashPassword, legacyHash, verifyPassword } from '../src/users/passwords.js';
import { rate } from './rate.js';
import { BENCH_PASSWORD, LEGACY_ITERATIONS } from './seeding.js';

/** How many password checks of one kind the process finished per second. */
export interface HashRate {
  name: string;
  perSecond: number;
}

/**
 * Bare argon2id: the service's `verifyPassword` on a hash made with its own
 * ARGON2_OPTIONS, with as many checks in flight as the load has connections.
 */
export async function argon2Rate(concurrency: number, seconds: number): Promise<HashRate> {
  const stored = await hashPassword(BENCH_PASSWORD);
  const perSecond = await rate(concurrency, seconds, async () => {
    await verifyPassword(stored, BENCH_PASSWORD);
  });
  return { name: 'argon2id verify', perSecond };
}

/**
 * Bare legacy login work: the PBKDF2 check of an imported hash plus the
 * argon2id hash that replaces it, which is what the service does on success.
 */
export async function legacyRate(concurrency: number, seconds: number): Promise<HashRate> {
  const stored = await legacyHash(BENCH_PASSWORD, 'benchsalt', LEGACY_ITERATIONS);
  const perSecond = await rate(concurrency, seconds, async () => {
    await verifyPassword(stored, BENCH_PASSWORD);
    await hashPassword(BENCH_PASSWORD);
  });
  return { name: 'PBKDF2 verify + argon2id rehash', perSecond };
}
