/** Pagination cursors: a page's last key as base64url JSON, checked against its schema when it comes back. */
import type { z } from "zod";
import { problems, type ProblemError } from "../core/errors.ts";
import { isValidationError } from "./errors.ts";

/** The one answer to a cursor this API did not give out: the client's mistake (400), never a 500. */
export const invalidCursor = (): ProblemError => problems.badRequest("The cursor is not one this API gave out.");

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** The key a cursor names, or undefined when it is not a cursor of this shape (forged, truncated, another list's). */
export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.infer<S> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * For a read that started from a cursor: DynamoDB refusing the start key means the cursor was forged past its
 * schema, which is a 400 like any other bad cursor. Anything else is rethrown as it is.
 */
export function rejectedCursor(after: unknown): (err: unknown) => never {
  return (err) => {
    if (after !== undefined && isValidationError(err)) throw invalidCursor();
    throw err;
  };
}
