import { describe, expect, it } from "vitest";
import { answered } from "../../../console/src/shared/answered.ts";

const attempt = {
  attempt: 1,
  at: "2026-12-07T05:00:00.000Z",
  status_code: 200,
  duration_ms: 4,
  error: null,
  response_excerpt: null,
};
const delivery = {
  endpoint_id: "ep_1",
  webhook_id: "msg_1",
  status: "PENDING" as const,
  attempts: 0,
  attempt_log: [],
  earlier_attempts_cursor: null,
};

describe("the portal's wait for a test event's attempt", () => {
  it("waits while the attempt is leased, and while it is recorded but its outcome is not", () => {
    expect(answered(undefined)).toBe(false);
    expect(answered(delivery)).toBe(false);
    expect(answered({ ...delivery, attempts: 1 })).toBe(false);
    expect(answered({ ...delivery, attempts: 1, attempt_log: [attempt] })).toBe(false);
  });

  it("shows the attempt once its outcome is stored, and a skip at once", () => {
    expect(answered({ ...delivery, status: "DELIVERED", attempts: 1, attempt_log: [attempt] })).toBe(true);
    expect(
      answered({ ...delivery, status: "FAILED", attempts: 1, attempt_log: [{ ...attempt, status_code: 500 }] }),
    ).toBe(true);
    expect(answered({ ...delivery, status: "SKIPPED" })).toBe(true);
  });
});
