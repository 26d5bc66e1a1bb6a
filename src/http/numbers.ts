import { MAX_ID } from '../limits.js';
import { invalidField } from './errors.js';

/** Turns id text (already matched against IdText) into a number, refusing values past 2^31-1. */
export function parseId(text: string, field: string): number {
  const id = Number(text);
  if (id > MAX_ID) throw invalidField(field, `must be a positive integer up to ${MAX_ID}`);
  return id;
}

/** Turns optional count text into a number within bounds, or the fallback when absent. */
export function parseCount(
  text: string | undefined,
  field: string,
  fallback: number,
  max: number,
): number {
  return parseOptionalCount(text, field, max) ?? fallback;
}

/**
 * Turns optional count text (already matched against CountText) into a
 * number within bounds; undefined when absent or empty (`?roomId=`).
 */
export function parseOptionalCount(
  text: string | undefined,
  field: string,
  max: number,
): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (value > max) throw invalidField(field, `must be an integer from 0 to ${max}`);
  return value;
}
