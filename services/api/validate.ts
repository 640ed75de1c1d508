/** Request parsing at the HTTP boundary: JSON content type, exact-bytes JSON objects, zod schemas to 422, cursors. */
import express, { type RequestHandler } from "express";
import { z } from "zod";
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

/** One issue as the 422's errors: an unknown field named on its own, a node within a JSON document by its pointer. */
function issueErrors(i: z.core.$ZodIssue): { path: string; pointer?: string; message: string }[] {
  const path = i.path.map(String).join(".");
  if (i.code === "unrecognized_keys")
    return i.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: "unknown field" }));
  const pointer = i.code === "custom" ? (i.params as { pointer?: unknown } | undefined)?.pointer : undefined;
  return [{ path: path || "(body)", ...(typeof pointer === "string" ? { pointer } : {}), message: i.message }];
}

/** The value as the schema parses it, or a 422 listing every problem (bodies' schemas are strict: unknown fields too). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw problems.invalid(parsed.error.issues.flatMap(issueErrors));
  return parsed.data;
}

/** An action's body when it takes none: nothing, or `{}`; any field in it is unknown (422), as everywhere. */
export const emptyBodySchema = z.strictObject({});
export const noBody: RequestHandler[] = [
  optionalJson,
  express.json({ limit: "4kb" }),
  (req, _res, next) => {
    parseWith(emptyBodySchema, req.body ?? {});
    next();
  },
];
