import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../services/config.ts";

describe("parseConfig", () => {
  it("has the documented defaults", () => {
    const c = parseConfig({}, "worker");
    expect(c).toMatchObject({
      PORT: 3000,
      RETRY_SCHEDULE: [60_000, 120_000, 240_000, 480_000, 960_000],
      DELIVERY_TIMEOUT_MS: 30_000,
      ALLOW_PRIVATE_TARGETS: false,
      MAX_PAYLOAD_BYTES: 262_144,
      LOG_LEVEL: "info",
    });
  });

  it("names the variable that is wrong", () => {
    expect(() => parseConfig({ RETRY_SCHEDULE: "1m,soon" }, "worker")).toThrow(/RETRY_SCHEDULE: a comma list/);
    expect(() => parseConfig({ PORT: "http" }, "worker")).toThrow(/PORT:/);
    expect(() => parseConfig({ ALLOW_PRIVATE_TARGETS: "maybe" }, "worker")).toThrow(/ALLOW_PRIVATE_TARGETS:/);
    expect(() => parseConfig({ AWS_ENDPOINT_URL_SQS: "not a url" }, "worker")).toThrow(/AWS_ENDPOINT_URL_SQS:/);
  });

  it("requires the delivery timeout to end before the visibility timeout", () => {
    expect(() => parseConfig({ DELIVERY_TIMEOUT_MS: "60000", VISIBILITY_TIMEOUT_S: "60" }, "worker")).toThrow(
      /DELIVERY_TIMEOUT_MS: must be at least 5 s below VISIBILITY_TIMEOUT_S/,
    );
  });

  it("requires a long enough ADMIN_TOKEN for the API only", () => {
    expect(() => parseConfig({}, "api")).toThrow(ConfigError);
    expect(() => parseConfig({ ADMIN_TOKEN: "short" }, "api")).toThrow(/ADMIN_TOKEN: must be at least 24/);
    expect(parseConfig({ ADMIN_TOKEN: "x".repeat(24) }, "api").ADMIN_TOKEN).toHaveLength(24);
  });
});
