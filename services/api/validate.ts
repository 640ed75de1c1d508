/** Request parsing at the HTTP boundary: JSON content type, exact-bytes JSON objects, zod schemas to 422, cursors. */
import type { RequestHandler } from "express";
import type { z } from "zod";
import { problems } from "../core/errors.ts";
import { decodeCursor, invalidCursor } from "../aws/cursor.ts";

/** 415 unless the body is declared `application/json` (parameters such as charset allowed). */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!/^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? "")) throw problems.unsupportedMediaType();
  next();
};

/** Like requireJson, but a request without a body at all passes (for actions whose body is optional). */
export const optionalJson: RequestHandler = (req, res, next) => {
  const empty = !req.headers["transfer-encoding"] && Number(req.headers["content-length"] ?? 0) === 0;
  if (empty) {
    next();
    return;
  }
  requireJson(req, res, next);
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** True when brackets nest deeper than `max` (strings skipped); checked before parsing, in one pass. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The raw body as a JSON object, or a 400 saying what is wrong; the bytes themselves are kept by the caller. */
export function jsonObjectOf(raw: unknown, maxDepth = 64): Record<string, unknown> {
  if (!(raw instanceof Buffer) || raw.length === 0) throw problems.badRequest("The body must be a JSON object.");
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    throw problems.badRequest("The body is not valid UTF-8.");
  }
  if (nestsDeeperThan(text, maxDepth)) throw problems.badRequest(`The body nests deeper than ${maxDepth} levels.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw problems.badRequest("The body is not valid JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw problems.badRequest("The body must be a JSON object.");
  return value as Record<string, unknown>;
}

/** The position a `cursor` parameter names, or a 400 when it is not one this API gave out (garbage or forged). */
export function cursorOf<S extends z.ZodType>(cursor: string | undefined, schema: S): z.infer<S> | undefined {
  if (cursor === undefined) return undefined;
  // Ours are a few dozen characters: anything long is not one, and is not decoded at all.
  const key = cursor.length <= 1000 ? decodeCursor(cursor, schema) : undefined;
  if (key === undefined) throw invalidCursor();
  return key;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw problems.invalid(
      parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message })),
    );
  }
  return parsed.data;
}
