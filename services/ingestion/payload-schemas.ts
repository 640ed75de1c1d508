/**
 * Event-type schemas as code: JSON Schema 2020-12 compiled by Ajv into validators, and the admission a schema passes
 * before it is stored (core's static bounds, every pattern proved linear-time by recheck, a compile, the examples
 * checked against it). What is admitted cannot make a check slow or throw at ingestion; what is not is a 422 at PUT.
 */
// eslint-disable-next-line no-restricted-imports -- the package's own CommonJS entry for draft 2020-12, not our source
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import formatsPlugin from "ajv-formats";
import { lru } from "../lru.ts";
import { schemaBounds, type SchemaProblem } from "../core/schema-bounds.ts";

/** Formats whose checks run in linear time (ajv-formats' own, or a linear stand-in where its regex is not provably so). */
const linearFormats = [
  "date",
  "time",
  "date-time",
  "iso-time",
  "iso-date-time",
  "email",
  "ipv4",
  "ipv6",
  "uuid",
  "json-pointer",
  "relative-json-pointer",
  "uri-template",
  "byte",
  "int32",
  "int64",
  "float",
  "double",
] as const;
export const supportedFormats = [...linearFormats, "uri", "hostname"] as const;
/** An absolute URI: a scheme, a colon, no whitespace (laxer than RFC 3986, and linear). */
export const uriPattern = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/;
/** Dot-separated labels of letters, digits and hyphens (at most 253 characters, each label at most 63). */
export const hostnamePattern = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;

const addFormats = formatsPlugin as unknown as typeof formatsPlugin.default;

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    // Unknown keywords and formats are errors, not silently ignored.
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    // Stop at the first failure: an error list that grows with the payload would cost more than the check.
    allErrors: false,
    // Each $ref is a function call, so the generated code grows linearly with the schema, never by inlining.
    inlineRefs: false,
    // No loadSchema: a reference outside the document cannot be fetched (and core refuses it first).
    addUsedSchema: false,
    logger: false,
  });
  addFormats(ajv, { mode: "full", formats: [...linearFormats] });
  ajv.addFormat("uri", uriPattern);
  ajv.addFormat("hostname", {
    validate: (s: string) => s.length <= 253 && hostnamePattern.test(s) && s.split(".").every((l) => l.length <= 63),
  });
  return ajv;
}

const ajv = newAjv();

export interface PayloadError {
  /** RFC 6901 pointer into the payload. */
  readonly pointer: string;
  readonly message: string;
}

/** Errors reported at most (the check stops at the first failure; anyOf/oneOf add their branches' failures). */
export const maxReportedErrors = 10;

function payloadError(e: ErrorObject): PayloadError {
  const params = e.params as { missingProperty?: string; additionalProperty?: string; unevaluatedProperty?: string };
  const named = params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
  const escape = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
  if (named !== undefined)
    return {
      pointer: `${e.instancePath}/${escape(named)}`,
      message: params.missingProperty !== undefined ? "is required" : "is not allowed here",
    };
  return { pointer: e.instancePath, message: e.message ?? e.keyword };
}

export type PayloadCheck = (payload: unknown) => readonly PayloadError[];

/** A compiled schema as a check: no errors when the payload conforms. Throws what Ajv refuses (admit first). */
export function compilePayloadSchema(schema: unknown): PayloadCheck {
  const validate: ValidateFunction = ajv.compile(schema as object);
  // The validator keeps working; Ajv's own cache of it would only grow with every schema ever compiled.
  ajv.removeSchema(schema as object);
  return (payload) => (validate(payload) ? [] : (validate.errors ?? []).slice(0, maxReportedErrors).map(payloadError));
}

export interface AdmissionProblem extends SchemaProblem {
  /** The request field the problem is in: `schema`, or `examples.<n>`. */
  readonly field: string;
}

const proofs = lru<string, Promise<string | undefined>>(2000);

/** Why a pattern may not be used (undefined: it runs in linear time), proved once per pattern per process. */
function linearTimeProblem(source: string): Promise<string | undefined> {
  let proof = proofs.get(source);
  if (!proof) {
    proof = (async () => {
      try {
        new RegExp(source, "u");
      } catch {
        return "is not a valid regular expression (ECMAScript, with the u flag)";
      }
      // Loaded on the first pattern, not at start: recheck is 4 MB of source and more of compiled code, which an API
      // task that never admits a schema with a pattern would carry for nothing.
      const { check } = await import("recheck");
      const verdict = await check(source, "u", { checker: "automaton", timeout: 2000 });
      if (verdict.status === "safe") return undefined;
      if (verdict.status === "vulnerable")
        return `could backtrack catastrophically (${verdict.complexity.type} time on strings such as the ones recheck found): rewrite it without nested or overlapping repetition`;
      return "cannot be proved to run in linear time (recheck could not decide it): simplify it";
    })();
    proofs.set(source, proof);
  }
  return proof;
}

/**
 * Everything wrong with a schema and its examples, each at its JSON pointer: none when the schema may be stored.
 * `payload` are the limits on an event body (MAX_PAYLOAD_BYTES, MAX_JSON_DEPTH), which the cost bound is for.
 */
export async function admitSchema(
  schema: unknown,
  examples: readonly unknown[],
  payload: { readonly maxBytes: number; readonly maxDepth: number },
): Promise<AdmissionProblem[]> {
  const bounds = schemaBounds(schema, payload);
  const problems: AdmissionProblem[] = bounds.problems.map((p) => ({ ...p, field: "schema" }));
  if (problems.length) return problems;
  const unproved = await Promise.all(
    bounds.patterns.map(async (p) => ({ ...p, message: await linearTimeProblem(p.source) })),
  );
  for (const p of unproved)
    if (p.message !== undefined) problems.push({ field: "schema", pointer: p.pointer, message: p.message });
  if (problems.length) return problems;
  let check: PayloadCheck;
  try {
    check = compilePayloadSchema(schema);
  } catch (err) {
    return [{ field: "schema", pointer: "", message: err instanceof Error ? err.message : String(err) }];
  }
  examples.forEach((example, i) => {
    for (const e of check(example)) problems.push({ field: `examples.${i}`, pointer: e.pointer, message: e.message });
  });
  return problems;
}
