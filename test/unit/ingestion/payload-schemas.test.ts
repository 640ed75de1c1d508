/**
 * A schema is admitted only within bounds that keep every check cheap: refused at PUT by construction (nothing here
 * measures time; `npm run bench` turns the cost bound into milliseconds on 256 KiB payloads built to be the worst).
 */
import { check } from "recheck";
// eslint-disable-next-line no-restricted-imports -- the package's format table, to prove each offered format linear
import formats from "ajv-formats/dist/formats.js";
import { describe, expect, it } from "vitest";
import { schemaBounds, schemaLimits } from "../../../services/core/schema-bounds.ts";
import {
  admitSchema,
  compilePayloadSchema,
  hostnamePattern,
  supportedFormats,
  uriPattern,
} from "../../../services/ingestion/payload-schemas.ts";
import { hostileCases } from "../../../bench/schema-bounds.ts";

const payload = { maxBytes: 262_144, maxDepth: 64 };
const admit = (schema: unknown, examples: unknown[] = []) => admitSchema(schema, examples, payload);

export const orderPaid = {
  type: "object",
  required: ["type", "data"],
  properties: {
    type: { const: "order.paid" },
    occurred_at: { type: "string", format: "date-time" },
    data: {
      type: "object",
      required: ["order_id", "amount", "currency"],
      additionalProperties: false,
      properties: {
        order_id: { type: "string", pattern: "^ord_[0-9A-Za-z]{3,32}$" },
        amount: { type: "integer", minimum: 0 },
        currency: { enum: ["EUR", "USD", "GBP"] },
        email: { type: "string", format: "email" },
        customer: { $ref: "#/$defs/customer" },
        items: { type: "array", items: { type: "object", properties: { sku: { type: "string" } } } },
        tags: { type: "array", items: { type: "string" }, uniqueItems: true },
      },
    },
  },
  $defs: { customer: { type: "object", properties: { id: { type: "string" }, country: { type: "string" } } } },
};

describe("admitSchema", () => {
  it("admits a realistic schema and checks payloads against it, each error at its pointer", async () => {
    expect(
      await admit(orderPaid, [{ type: "order.paid", data: { order_id: "ord_123", amount: 1, currency: "EUR" } }]),
    ).toEqual([]);
    const check = compilePayloadSchema(orderPaid);
    expect(check({ type: "order.paid", data: { order_id: "ord_1234", amount: 5, currency: "EUR" } })).toEqual([]);
    expect(check({ type: "order.paid", data: { order_id: "ord_1234", amount: -5, currency: "EUR" } })).toEqual([
      { pointer: "/data/amount", message: "must be >= 0" },
    ]);
    expect(check({ type: "order.paid", data: { amount: 5, currency: "EUR" } })).toEqual([
      { pointer: "/data/order_id", message: "is required" },
    ]);
    expect(check({ type: "order.paid", data: { order_id: "ord_1234", amount: 5, currency: "EUR", x: 1 } })).toEqual([
      { pointer: "/data/x", message: "is not allowed here" },
    ]);
  });

  it("refuses examples that do not conform, naming the example and the pointer", async () => {
    expect(
      await admit(orderPaid, [{ type: "order.paid", data: { order_id: "ord_123", amount: "1", currency: "EUR" } }]),
    ).toEqual([{ field: "examples.0", pointer: "/data/amount", message: "must be integer" }]);
  });

  it("refuses catastrophic-backtracking patterns, in pattern and patternProperties, before they are stored", async () => {
    for (const bad of ["^(a+)+$", "^(a|aa)*$", "(x+x+)+y", "^(\\w+\\s?)*$", "\\s+$", "a.*b"]) {
      expect(await admit({ type: "string", pattern: bad })).toEqual([
        { field: "schema", pointer: "/pattern", message: expect.stringMatching(/backtrack catastrophically|proved/) },
      ]);
    }
    expect(await admit({ type: "object", patternProperties: { "^(a|a)*$": { type: "string" } } })).toEqual([
      { field: "schema", pointer: "/patternProperties/^(a|a)*$", message: expect.stringMatching(/catastrophically/) },
    ]);
    expect(await admit({ type: "string", pattern: "[" })).toEqual([
      { field: "schema", pointer: "/pattern", message: expect.stringMatching(/not a valid regular expression/) },
    ]);
  });

  it("refuses references that leave the schema, identifiers, and loops that never descend", async () => {
    expect(await admit({ $ref: "https://schemas.example/order.json" })).toEqual([
      { field: "schema", pointer: "/$ref", message: expect.stringMatching(/only references within this schema/) },
    ]);
    expect(await admit({ properties: { a: { $ref: "other.json#/x" } } })).toHaveLength(1);
    expect((await admit({ $id: "https://x.example/s" }))[0]?.pointer).toBe("/$id");
    expect((await admit({ $ref: "#/$defs/missing" }))[0]?.message).toMatch(/does not name a subschema/);
    expect(
      await admit({
        $defs: { a: { allOf: [{ $ref: "#/$defs/b" }] }, b: { anyOf: [{ $ref: "#/$defs/a" }] } },
        $ref: "#/$defs/a",
      }),
    ).toEqual([
      {
        field: "schema",
        pointer: expect.stringMatching(/^\/\$defs\/(a|b)$/),
        message: expect.stringMatching(/never end/),
      },
    ]);
  });

  it("refuses schemas whose check could grow faster than the payload: nested alternatives, fanned-out references", async () => {
    // Each level tries both branches on the same value: 2^64 on a payload nested 64 deep.
    const exponential = {
      $defs: { n: { anyOf: [{ type: "array", items: { $ref: "#/$defs/n" } }, { items: { $ref: "#/$defs/n" } }] } },
      $ref: "#/$defs/n",
    };
    expect((await admit(exponential))[0]?.message).toMatch(/could cost \d+ units, more than/);
    // No recursion at all, but each level refers twice to the next: 2^30 subschemas on one value.
    const defs: Record<string, unknown> = { a30: { type: "string" } };
    for (let i = 0; i < 30; i++)
      defs[`a${i}`] = { allOf: [{ $ref: `#/$defs/a${i + 1}` }, { $ref: `#/$defs/a${i + 1}` }] };
    expect((await admit({ $defs: defs, $ref: "#/$defs/a0" }))[0]?.message).toMatch(/could cost/);
    // Pairwise comparison of objects is quadratic in the array's length.
    expect((await admit({ type: "array", uniqueItems: true, items: { type: "object" } }))[0]?.pointer).toBe(
      "/uniqueItems",
    );
    expect(await admit({ type: "array", uniqueItems: true, items: { type: "string" } })).toEqual([]);
  });

  it("refuses a schema over 64 KiB or nested deeper than 32 levels, and one Ajv will not compile", async () => {
    const big = { enum: Array.from({ length: 10_000 }, (_, i) => `value-${i}`) };
    expect((await admit(big))[0]?.message).toMatch(/bytes; at most 65536/);
    let deep: unknown = { type: "string" };
    for (let i = 0; i < 40; i++) deep = { properties: { a: deep } };
    expect((await admit(deep))[0]?.message).toMatch(/nests deeper than 32/);
    expect((await admit({ type: "strin" }))[0]?.pointer).toBe("");
    expect((await admit({ type: "string", format: "regex" }))[0]?.message).toMatch(/unknown format/);
    expect((await admit({ colour: "red" }))[0]?.message).toMatch(/strict mode: unknown keyword/);
  });

  it("admits each bench case, which the bench grows to the edge of the budget", () => {
    for (const c of hostileCases()) {
      expect([c.name, schemaBounds(c.schema, payload).problems]).toEqual([c.name, []]);
      expect(schemaBounds(c.schema, payload).cost).toBeLessThanOrEqual(schemaLimits.costBudget);
    }
  });

  it("offers only formats whose checks run in linear time", async () => {
    const full = formats.fullFormats as Record<string, unknown>;
    for (const name of supportedFormats) {
      const f = full[name];
      const re =
        name === "uri" ? uriPattern : name === "hostname" ? hostnamePattern : f instanceof RegExp ? f : undefined;
      if (!re) continue;
      const verdict = await check(re.source, re.flags, { checker: "automaton", timeout: 5000 });
      expect([name, verdict.status]).toEqual([name, "safe"]);
    }
  });
});
