/**
 * `npm run bench` › hostile schemas: schemas built to be as costly as the bounds let them be (each grown until one
 * more step is refused), checked against 256 KiB payloads built to be the worst for them. Prints each schema's
 * cost bound, compile time and the slowest check; the target is 10 ms a check. In-process, no services.
 */
import { schemaBounds, schemaLimits } from "../services/core/schema-bounds.ts";
import { admitSchema, compilePayloadSchema } from "../services/ingestion/payload-schemas.ts";

const payloadLimits = { maxBytes: 262_144, maxDepth: 64 };
type Schema = Record<string, unknown>;

/** The largest n (up to `max`) whose schema is admitted by the static bounds. */
function largest(make: (n: number) => Schema, max: number): number {
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (schemaBounds(make(mid), payloadLimits).problems.length === 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A JSON array of `item` repeated to fill the payload limit. */
function filled(item: string, wrap = (s: string) => s): unknown {
  const room = payloadLimits.maxBytes - wrap("[]").length - 16;
  const n = Math.floor(room / (item.length + 1));
  return JSON.parse(wrap(`[${Array(n).fill(item).join(",")}]`));
}

const nested = (depth: number): unknown => {
  let s = "[]";
  for (let i = 1; i < depth; i++) s = `[${s},${s}]`.length < 4000 ? `[${s},${s}]` : `[${s}]`;
  return JSON.parse(
    `[${Array(Math.floor((payloadLimits.maxBytes - 16) / (s.length + 1)))
      .fill(s)
      .join(",")}]`,
  );
};

export interface HostileCase {
  readonly name: string;
  readonly schema: Schema;
  readonly payloads: unknown[];
}

export function hostileCases(): HostileCase[] {
  const branches = (n: number): Schema => ({
    type: "array",
    items: { anyOf: Array.from({ length: n }, (_, i) => ({ type: "object", required: [`p${i}`] })) },
  });
  const props = (n: number): Schema => ({
    type: "array",
    items: {
      type: "object",
      additionalProperties: false,
      required: ["p0"],
      properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: "string" }])),
    },
  });
  const enums = (n: number): Schema => ({
    type: "array",
    items: { enum: Array.from({ length: n }, (_, i) => `v${i}`) },
  });
  const allOfRefs = (n: number): Schema => ({
    $defs: { s: { type: "string", format: "date-time" } },
    type: "array",
    items: { allOf: Array.from({ length: n }, () => ({ $ref: "#/$defs/s" })) },
  });
  const recursive: Schema = { $defs: { n: { type: "array", items: { $ref: "#/$defs/n" } } }, $ref: "#/$defs/n" };
  const tree = (n: number): Schema => ({
    $defs: {
      node: {
        type: "object",
        properties: {
          name: { type: "string", pattern: "^[a-z]+$" },
          ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}`, { $ref: "#/$defs/node" }])),
          kids: { type: "array", items: { $ref: "#/$defs/node" } },
        },
      },
    },
    $ref: "#/$defs/node",
  });
  const pattern: Schema = {
    type: "array",
    items: { type: "string", pattern: "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$" },
  };
  const b = largest(branches, 2000);
  const p = largest(props, 5000);
  const e = largest(enums, 20_000);
  const r = largest(allOfRefs, 2000);
  const t = largest(tree, 200);
  return [
    { name: `anyOf of ${b} failing branches on each item`, schema: branches(b), payloads: [filled(`{"p${b - 1}":1}`)] },
    {
      name: `${p} properties, additionalProperties false, on each item`,
      schema: props(p),
      payloads: [filled("{}"), filled('{"p0":""}'), filled('{"x":1}')],
    },
    { name: `enum of ${e} values on each item`, schema: enums(e), payloads: [filled(`"v${e - 1}"`), filled('"zz"')] },
    { name: `allOf of ${r} refs to a date-time`, schema: allOfRefs(r), payloads: [filled('"2026-12-05T10:00:00Z"')] },
    { name: "arrays nested 64 deep", schema: recursive, payloads: [nested(63)] },
    {
      name: `a tree: ${t} named children and a list of kids`,
      schema: tree(t),
      payloads: [filled("{}", (s) => `{"kids":${s}}`), filled('{"name":"a"}', (s) => `{"kids":${s}}`)],
    },
    {
      name: "a linear pattern on one 256 KiB string, and on short ones",
      schema: pattern,
      payloads: [["a".repeat(payloadLimits.maxBytes - 32)], filled('"aaaa@b"'), filled('"a"')],
    },
  ];
}

/** Each case: admitted?, its cost bound, compile ms, and the slowest check of a payload (median of 7, warm). */
export async function hostileSchemaBench() {
  const out = [];
  for (const c of hostileCases()) {
    const problems = await admitSchema(c.schema, [], payloadLimits);
    const started = performance.now();
    const check = compilePayloadSchema(c.schema);
    const compileMs = performance.now() - started;
    let worst = 0;
    for (const payload of c.payloads) {
      // Warm: the first calls run before V8 has optimised the generated code.
      for (let i = 0; i < 5; i++) check(payload);
      const runs = Array.from({ length: 7 }, () => {
        const t = performance.now();
        check(payload);
        return performance.now() - t;
      }).sort((x, y) => x - y);
      worst = Math.max(worst, runs[3]!);
    }
    out.push({
      name: c.name,
      admitted: problems.length === 0,
      cost: schemaBounds(c.schema, payloadLimits).cost,
      compile_ms: compileMs,
      worst_check_ms: worst,
    });
  }
  return { budget: schemaLimits.costBudget, cases: out };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await hostileSchemaBench(), null, 2));
  process.exit(0);
}
