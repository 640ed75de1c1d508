import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterLimits, filterProblems, matchesFilter } from "../../../services/core/payload-filter.ts";

const order = { type: "order.paid", data: { amount: 4200, currency: "EUR", tags: ["vip", "eu"], note: null } };

describe("matchesFilter", () => {
  it("matches the issue's example and nothing outside it", () => {
    const f = { data: { amount: { $gt: 100 }, currency: { $in: ["EUR", "USD"] } } };
    expect(matchesFilter(f, order)).toBe(true);
    expect(matchesFilter(f, { data: { amount: 100, currency: "EUR" } })).toBe(false);
    expect(matchesFilter(f, { data: { amount: 4200, currency: "GBP" } })).toBe(false);
    expect(matchesFilter(f, { data: { currency: "EUR" } })).toBe(false);
  });

  it("reads each comparison as its name says, an absent field failing all but $neq, $nin and $exists: false", () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ type: "order.paid" }, true],
      [{ type: { $eq: "order.paid" } }, true],
      [{ type: { $neq: "order.paid" } }, false],
      [{ missing: { $neq: 1 } }, true],
      [{ missing: { $nin: [1] } }, true],
      [{ missing: { $exists: false } }, true],
      [{ missing: { $eq: null } }, false],
      [{ data: { note: null } }, true],
      [{ data: { amount: { $gte: 4200, $lte: 4200 } } }, true],
      [{ data: { amount: { $lt: 4200 } } }, false],
      [{ data: { amount: { $gt: "1" } } }, false],
      [{ data: { currency: { $gt: "DZD", $lt: "FRF" } } }, true],
      [{ type: { $startsWith: "order." } }, true],
      [{ data: { amount: { $startsWith: "42" } } }, false],
      [{ data: { tags: "vip" } }, true],
      [{ data: { tags: { $in: ["us", "eu"] } } }, true],
      [{ data: { tags: { $nin: ["eu"] } } }, false],
      [{ data: { tags: { 1: "eu" } } }, true],
      [{ $or: [{ type: "x" }, { data: { currency: "EUR" } }] }, true],
      [{ $and: [{ type: "order.paid" }, { data: { amount: { $lt: 10 } } }] }, false],
      [{ data: { $not: { amount: { $lt: 10 } } } }, true],
      [{ data: { amount: { $not: { $gt: 10 } } } }, false],
      [{ constructor: { $exists: true } }, false],
    ];
    for (const [f, expected] of cases) expect([f, matchesFilter(f, order)]).toEqual([f, expected]);
  });

  it("is a total function: any stored filter on any JSON payload answers a boolean, and $not is its complement", () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.integer({ min: -5, max: 5 }),
      fc.boolean(),
      fc.constant(null),
    );
    const field = fc.constantFrom("a", "b", "0");
    const leaf = fc.oneof(
      scalar,
      fc.record({ $eq: scalar }),
      fc.record({ $in: fc.array(scalar, { minLength: 1, maxLength: 3 }) }),
      fc.record({ $gt: fc.integer({ min: -5, max: 5 }) }),
      fc.record({ $exists: fc.boolean() }),
    );
    const { filter } = fc.letrec((tie) => ({
      filter: fc.oneof(
        { depthSize: "small" },
        fc.dictionary(field, leaf, { maxKeys: 2 }),
        fc.dictionary(field, tie("filter"), { maxKeys: 2 }),
        fc.record({ $not: tie("filter") }),
        fc.record({ $or: fc.array(tie("filter"), { minLength: 1, maxLength: 2 }) }),
      ),
    }));
    fc.assert(
      fc.property(filter, fc.jsonValue(), (f, payload) => {
        if (filterProblems(f).length > 0) return;
        const yes = matchesFilter(f, payload);
        expect(typeof yes).toBe("boolean");
        expect(matchesFilter({ $not: f }, payload)).toBe(!yes);
      }),
    );
  });
});

describe("filterProblems", () => {
  it("accepts the issue's example", () => {
    expect(filterProblems({ data: { amount: { $gt: 100 }, currency: { $in: ["EUR", "USD"] } } })).toEqual([]);
  });

  it("names each bad node by its JSON pointer", () => {
    expect(
      filterProblems({
        data: { amount: { $gtt: 100 }, "a/b": { $in: "EUR" }, tags: ["x"] },
        $or: [],
        $not: 3,
      }),
    ).toEqual([
      { pointer: "/data/amount/$gtt", message: expect.stringMatching(/^unknown operator \$gtt/) },
      { pointer: "/data/a~1b/$in", message: expect.stringMatching(/list of 1 to 100 values/) },
      { pointer: "/data/tags", message: expect.stringMatching(/use \$in/) },
      { pointer: "/$or", message: expect.stringMatching(/list of 1 to 100 conditions/) },
      { pointer: "/$not", message: "a condition is an object" },
    ]);
    expect(filterProblems([])).toEqual([{ pointer: "", message: "a filter is an object" }]);
  });

  it(`refuses more than ${filterLimits.maxDepth} levels, ${filterLimits.maxOperators} operators or ${filterLimits.maxBytes} bytes`, () => {
    expect(filterProblems({ a: { b: { c: { d: { e: 1 } } } } })).toEqual([]);
    expect(filterProblems({ a: { b: { c: { d: { e: { f: 1 } } } } } })).toEqual([
      { pointer: "/a/b/c/d/e", message: "nests deeper than 5 levels" },
    ]);
    expect(filterProblems({ $not: { $not: { $not: { $not: { $not: { a: 1 } } } } } })[0]?.pointer).toBe(
      "/$not/$not/$not/$not/$not",
    );
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, i]));
    expect(filterProblems(fifty)).toEqual([]);
    expect(filterProblems({ ...fifty, one: { $exists: true } })).toEqual([
      { pointer: "", message: expect.stringMatching(/^has 51 operators; at most 50/) },
    ]);
    expect(filterProblems({ a: { $eq: "x".repeat(5000) } })).toEqual([
      { pointer: "", message: expect.stringMatching(/bytes; at most 4096$/) },
    ]);
  });
});
