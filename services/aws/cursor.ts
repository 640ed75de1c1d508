/** Pagination cursors: a page's last key as base64url JSON, checked against its schema when it comes back. */
import type { z } from "zod";

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

