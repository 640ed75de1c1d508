import { describe, expect, it } from "vitest";
import { createBatcher } from "../../../services/aws/batcher.ts";

/** A flush the test answers batch by batch, recording what each batch held. */
function flushes() {
  const batches: number[][] = [];
  const answers: (() => void)[] = [];
  const flush = (items: readonly number[]) =>
    new Promise<boolean[]>((resolve) => {
      batches.push([...items]);
      answers.push(() => resolve(items.map((i) => i % 2 === 0)));
    });
  const answerOne = async () => {
    answers.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { flush, batches, answerOne };
}

describe("createBatcher", () => {
  it("with no wait sends a lone item at once and groups the items that arrive while a batch is on its way", async () => {
    const f = flushes();
    const add = createBatcher(f.flush, 10, 0);
    const first = add(0);
    expect(f.batches).toEqual([[0]]);
    const later = [add(1), add(2), add(3)];
    expect(f.batches).toHaveLength(1);
    await f.answerOne();
    expect(await first).toBe(true);
    expect(f.batches).toEqual([[0], [1, 2, 3]]);
    await f.answerOne();
    expect(await Promise.all(later)).toEqual([false, true, false]);
  });

  it("sends a full batch without waiting for the one on its way", () => {
    const f = flushes();
    const add = createBatcher(f.flush, 3, 0);
    for (let i = 0; i < 7; i++) void add(i);
    expect(f.batches).toEqual([[0], [1, 2, 3], [4, 5, 6]]);
  });

  it("with a wait holds the first item until the batch fills or the wait ends", async () => {
    const f = flushes();
    const add = createBatcher(f.flush, 10, 5);
    void add(0);
    void add(1);
    expect(f.batches).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(f.batches).toEqual([[0, 1]]);
  });
});
