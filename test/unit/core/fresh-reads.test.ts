import { describe, expect, it } from "vitest";
import { freshReads } from "../../../services/core/fresh-reads.ts";

/** A store whose reads the test finishes one by one: each read answers the value current when it began. */
function store() {
  let value = 0;
  const pending: { key: string; finish: (failed: boolean) => void }[] = [];
  const read = (key: string) =>
    new Promise<number>((resolve, reject) => {
      const began = value;
      pending.push({ key, finish: (failed) => (failed ? reject(new Error("read failed")) : resolve(began)) });
    });
  const finishOne = async (failed = false) => {
    pending.shift()?.finish(failed);
    await new Promise((r) => setImmediate(r));
  };
  return { read, pending, finishOne, set: (v: number) => (value = v) };
}

describe("freshReads", () => {
  it("answers every caller from a read that began after it asked, with one read running per key", async () => {
    const s = store();
    const get = freshReads(s.read);
    const first = get("t");
    s.set(1); // a change made while the first read runs: callers from now on must see it
    const second = get("t");
    const third = get("t");
    expect(s.pending).toHaveLength(1);
    await s.finishOne();
    expect(await first).toBe(0);
    expect(s.pending).toHaveLength(1); // the second and third share the next read, begun after they asked
    await s.finishOne();
    expect([await second, await third]).toEqual([1, 1]);
    expect(s.pending).toHaveLength(0);
  });

  it("reads keys apart, and starts afresh once a key is idle", async () => {
    const s = store();
    const get = freshReads(s.read);
    const a = get("a");
    const b = get("b");
    expect(s.pending.map((p) => p.key)).toEqual(["a", "b"]);
    await s.finishOne();
    await s.finishOne();
    expect([await a, await b]).toEqual([0, 0]);
    s.set(2);
    const again = get("a");
    expect(s.pending).toHaveLength(1);
    await s.finishOne();
    expect(await again).toBe(2);
  });

  it("fails only the callers of a failed read; the next read serves the ones waiting", async () => {
    const s = store();
    const get = freshReads(s.read);
    const failed = get("t");
    failed.catch(() => undefined);
    const waiting = get("t");
    await s.finishOne(true);
    await expect(failed).rejects.toThrow("read failed");
    expect(s.pending).toHaveLength(1);
    await s.finishOne();
    expect(await waiting).toBe(0);
    expect(s.pending).toHaveLength(0);
  });
});
