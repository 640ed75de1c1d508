/** The bootstrap's retry while LocalStack warms up, on a fake clock. */
import { describe, expect, it } from "vitest";
import { untilReady } from "../../../services/bootstrap/until-ready.ts";

/** A clock that only moves when the code under test sleeps, and the waits it slept. */
function fakeTime() {
  let t = 0;
  const waits: number[] = [];
  return { waits, now: () => t, sleep: (ms: number) => ((t += ms), waits.push(ms), Promise.resolve()) };
}
const failing = (times: number) => {
  let calls = 0;
  return () => (++calls <= times ? Promise.reject(new Error(`not yet ${calls}`)) : Promise.resolve(calls));
};

describe("untilReady", () => {
  it("returns at once when the step succeeds", async () => {
    const time = fakeTime();
    expect(await untilReady(failing(0), { budgetMs: 60_000, ...time })).toBe(1);
    expect(time.waits).toEqual([]);
  });

  it("retries with doubling waits capped at 5 s, reporting each failure", async () => {
    const time = fakeTime();
    const seen: string[] = [];
    const result = await untilReady(failing(7), {
      budgetMs: 60_000,
      ...time,
      onRetry: (err, ms) => seen.push(`${(err as Error).message} ${ms}`),
    });
    expect(result).toBe(8);
    expect(time.waits).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(seen[0]).toBe("not yet 1 250");
  });

  it("gives up with the last error rather than wait past its budget", async () => {
    const time = fakeTime();
    await expect(untilReady(failing(100), { budgetMs: 60_000, ...time })).rejects.toThrow(/not yet \d+/);
    expect(time.now()).toBeLessThanOrEqual(60_000);
    expect(time.waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(50_000);
  });
});
