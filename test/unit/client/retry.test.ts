import { describe, expect, it } from "vitest";
import { mayRetry, retryDelayMs } from "../../../clients/typescript/src/retry.ts";

const now = Date.parse("2026-12-05T12:00:00Z");

describe("how long the client waits before retrying a 429 or 503", () => {
  it("waits what Retry-After says, in seconds or until an HTTP date", () => {
    expect(retryDelayMs("2", 0, 30_000, now)).toBe(2000);
    expect(retryDelayMs("0", 0, 30_000, now)).toBe(0);
    expect(retryDelayMs("Sat, 05 Dec 2026 12:00:07 GMT", 0, 30_000, now)).toBe(7000);
    // A date already past: at once.
    expect(retryDelayMs("Sat, 05 Dec 2026 11:00:00 GMT", 0, 30_000, now)).toBe(0);
  });

  it("does not wait at all when asked to wait longer than its bound (the answer is thrown instead)", () => {
    expect(retryDelayMs("31", 0, 30_000, now)).toBeUndefined();
    expect(retryDelayMs("Sat, 05 Dec 2026 13:00:00 GMT", 0, 30_000, now)).toBeUndefined();
  });

  it("backs off exponentially with jitter when there is no Retry-After, never beyond the bound", () => {
    expect(retryDelayMs(null, 0, 30_000, now, () => 0)).toBe(250);
    expect(retryDelayMs(null, 0, 30_000, now, () => 1)).toBe(500);
    expect(retryDelayMs(null, 3, 30_000, now, () => 1)).toBe(4000);
    expect(retryDelayMs(null, 10, 30_000, now, () => 1)).toBe(30_000);
    // Unreadable: the first backoff step.
    expect(retryDelayMs("soon", 4, 30_000, now)).toBe(500);
  });
});

describe("what the client sends again", () => {
  const request = (method: string, headers: Record<string, string> = {}) =>
    new Request("http://127.0.0.1/v1/endpoints", { method, headers });

  it("any request refused with 429: nothing was done", () => {
    expect(mayRetry(request("POST"), 429)).toBe(true);
    expect(mayRetry(request("GET"), 429)).toBe(true);
  });

  it("after a 503 only what is safe to repeat: an idempotent method, or a request with an Idempotency-Key", () => {
    for (const method of ["GET", "PUT", "DELETE"]) expect(mayRetry(request(method), 503)).toBe(true);
    expect(mayRetry(request("POST", { "idempotency-key": "k1" }), 503)).toBe(true);
    // A POST or PATCH without a key may have been half done (an endpoint made, a secret rotated): not repeated.
    expect(mayRetry(request("POST"), 503)).toBe(false);
    expect(mayRetry(request("PATCH"), 503)).toBe(false);
  });

  it("never another status", () => {
    for (const status of [200, 400, 409, 500, 502, 504]) expect(mayRetry(request("GET"), status)).toBe(false);
  });
});
