import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Ids in paths and numbers in query strings arrive as text. They are checked
 * as text, so that `1e1`, `0x10`, ` 16` or `16.0` are refused rather than
 * coerced; the value range is checked when the text is turned into a number.
 */
export const IdText = Type.String({ pattern: '^[1-9][0-9]{0,9}$', maxLength: 10 });
/** An empty value (`?offset=`) counts as absent, as in the route list of API.md. */
export const CountText = Type.String({ pattern: '^(0|[1-9][0-9]{0,9})?$', maxLength: 10 });

/** The body of every 4xx and 5xx answer. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    field: Type.Optional(Type.String()),
  },
  { $id: 'Problem', description: 'An RFC 9457 problem: what went wrong and which field' },
);

const ProblemRef = Type.Ref('Problem');

/** Response schemas for the error statuses a route declares, plus 500 and 503. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  const all = [...statuses, 500, 503];
  return Object.fromEntries(all.map((status) => [status, ProblemRef]));
}

/** An empty success answer for deletions. */
export const Deleted = Type.Object({ deleted: Type.Integer({ minimum: 0 }) });
