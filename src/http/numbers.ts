import { MAX_ID } from '../limits.js';
import { invalidField } from './errors.js';

/** Turns id text (already matched against IdText) into a number, refusing values past 2^31-1. */
export function parseId(text: string, field: string): number {
  const id = Number(text);
  if (id > MAX_ID) throw invalidField(field, `must be a positive integer up to ${MAX_ID}`);
  return id;
}

/** Turns optional count text into a number within bounds, or the fallback when absent or empty. */
export function parseCount(
  text: string | undefined,
  field: string,
  fallback: number,
  max: number,
): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (value > max) throw invalidField(field, `must be an integer from 0 to ${max}`);
  return value;
}
