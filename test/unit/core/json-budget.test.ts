import { describe, expect, it } from "vitest";
import { jsonStringBytes, withinJsonBytes } from "../../../services/core/json-budget.ts";

/** What the budget is about: the bytes of the string as JSON.stringify writes it, without its quotes. */
const sent = (s: string) => Buffer.byteLength(JSON.stringify(s)) - 2;

const samples = [
  "plain ascii",
  "\u0001".repeat(100),
  'quotes " and \\ backslashes',
  "tabs\tnew\nlines\r\f\b",
  "é, 漢字, emoji 🙂🙂",
  "lone \ud800 surrogate \udfff",
  "\u007f del and \u2028 line separator",
  "",
];

describe("the JSON byte budget", () => {
  it("measures a string as JSON.stringify sends it", () => {
    for (const s of samples) expect(jsonStringBytes(s), JSON.stringify(s)).toBe(sent(s));
  });

  it("keeps the longest start that fits, for every budget, and never splits a surrogate pair", () => {
    for (const s of samples) {
      for (let budget = 0; budget <= sent(s) + 2; budget++) {
        const cut = withinJsonBytes(s, budget);
        expect(s.startsWith(cut)).toBe(true);
        expect(sent(cut)).toBeLessThanOrEqual(budget);
        // One more code point would not fit (or there is none).
        const next = s.codePointAt(cut.length);
        if (next !== undefined) expect(sent(cut + String.fromCodePoint(next))).toBeGreaterThan(budget);
        expect(/[\ud800-\udbff]$/.test(cut) && /^[\udc00-\udfff]/.test(s.slice(cut.length))).toBe(false);
      }
    }
  });

  it("cuts 4 KiB of control bytes to a sixth, and leaves 4 KiB of plain text whole", () => {
    expect(withinJsonBytes("\u0001".repeat(4096), 4096)).toHaveLength(682);
    expect(withinJsonBytes("x".repeat(4096), 4096)).toHaveLength(4096);
  });
});
