import { describe, expect, it } from "vitest";
import { takeToken, type Bucket } from "../../../services/core/token-bucket.ts";

describe("takeToken", () => {
  it("allows a burst, then refuses with the wait, then refills at the rate", () => {
    let bucket: Bucket | undefined;
    for (let i = 0; i < 5; i++) {
      const r = takeToken(bucket, 0, 2, 5);
      expect(r.ok).toBe(true);
      bucket = r.bucket;
    }
    const refused = takeToken(bucket, 0, 2, 5);
    expect(refused).toMatchObject({ ok: false, retryAfterS: 1 });
    expect(takeToken(refused.bucket, 499, 2, 5).ok).toBe(false);
    expect(takeToken(refused.bucket, 500, 2, 5).ok).toBe(true);
    // Never more than the burst, however long it was idle.
    expect(takeToken({ tokens: 0, at: 0 }, 3_600_000, 2, 5).bucket.tokens).toBe(4);
  });

  it("asks a slow client to wait long enough", () => {
    expect(takeToken({ tokens: 0, at: 0 }, 0, 0.1, 1)).toMatchObject({ ok: false, retryAfterS: 10 });
  });
});
