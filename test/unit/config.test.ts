import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../services/config.ts";

/** The services need a way to seal signing secrets (below); most tests here are about something else. */
const sealing = { SECRETS_KEY_FILE: "/run/secrets.key" };

describe("parseConfig", () => {
  it("has the documented defaults", () => {
    const c = parseConfig(sealing, "worker");
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
    expect(() => parseConfig({ ...sealing, RETRY_SCHEDULE: "1m,soon" }, "worker")).toThrow(
      /RETRY_SCHEDULE: a comma list/,
    );
    expect(() => parseConfig({ ...sealing, PORT: "http" }, "worker")).toThrow(/PORT:/);
    expect(() => parseConfig({ ...sealing, ALLOW_PRIVATE_TARGETS: "maybe" }, "worker")).toThrow(
      /ALLOW_PRIVATE_TARGETS:/,
    );
    expect(() => parseConfig({ ...sealing, AWS_ENDPOINT_URL_SQS: "not a url" }, "worker")).toThrow(
      /AWS_ENDPOINT_URL_SQS:/,
    );
  });

  it("requires the delivery timeout to end before the visibility timeout", () => {
    expect(() =>
      parseConfig({ ...sealing, DELIVERY_TIMEOUT_MS: "60000", VISIBILITY_TIMEOUT_S: "60" }, "worker"),
    ).toThrow(/DELIVERY_TIMEOUT_MS: must be at least 5 s below VISIBILITY_TIMEOUT_S/);
  });

  it("calls AWS destinations elsewhere than AWS, or without assuming the customer's role, only on emulators", () => {
    const local = { ...sealing, AWS_ENDPOINT_URL: "http://127.0.0.1:4566" };
    expect(() => parseConfig({ ...sealing, AWS_ENDPOINT_URL_DESTINATIONS: "http://127.0.0.1:4566" }, "worker")).toThrow(
      /AWS_ENDPOINT_URL_DESTINATIONS: only where the services use local emulators/,
    );
    expect(() => parseConfig({ ...local, DESTINATION_ASSUME_ROLE: "false" }, "worker")).toThrow(
      /DESTINATION_ASSUME_ROLE: false only with AWS_ENDPOINT_URL_DESTINATIONS/,
    );
    const noSts = {
      ...local,
      AWS_ENDPOINT_URL_DESTINATIONS: "http://127.0.0.1:4566",
      DESTINATION_ASSUME_ROLE: "false",
    };
    expect(parseConfig(noSts, "worker").DESTINATION_ASSUME_ROLE).toBe(false);
    expect(parseConfig(sealing, "worker").DESTINATION_ASSUME_ROLE).toBe(true);
  });

  it("refuses to turn the address guard off unless every AWS endpoint is an emulator", () => {
    const on = { ...sealing, ALLOW_PRIVATE_TARGETS: "true", ADMIN_TOKEN: "x".repeat(32) };
    // Production-like: no endpoint overrides, so the services talk to AWS itself.
    for (const role of ["api", "worker"] as const)
      expect(() => parseConfig(on, role)).toThrow(/ALLOW_PRIVATE_TARGETS: true turns the outbound address guard off/);
    expect(() => parseConfig({ ...on, AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000" }, "worker")).toThrow(
      /ALLOW_PRIVATE_TARGETS/,
    );
    expect(() =>
      parseConfig({ ...on, AWS_ENDPOINT_URL: "https://dynamodb.us-east-1.amazonaws.com" }, "worker"),
    ).toThrow(/ALLOW_PRIVATE_TARGETS/);
    expect(() =>
      parseConfig(
        {
          ...on,
          AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
          AWS_ENDPOINT_URL_SQS: "https://sqs.eu-west-1.amazonaws.com",
        },
        "api",
      ),
    ).toThrow(/ALLOW_PRIVATE_TARGETS/);
    // Sealing with KMS counts too: its endpoint must be an emulator's as well.
    const kms = {
      ...on,
      SECRETS_KEY_FILE: undefined,
      SECRETS_KMS_KEY_ID: "alias/k",
      AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000",
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9324",
    };
    expect(() => parseConfig(kms, "worker")).toThrow(/ALLOW_PRIVATE_TARGETS/);
    expect(parseConfig({ ...kms, AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:4566" }, "worker").ALLOW_PRIVATE_TARGETS).toBe(
      true,
    );
    // npm start and the tests (loopback emulators), docker compose (LocalStack on the compose network).
    expect(
      parseConfig(
        { ...on, AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000", AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9324" },
        "worker",
      ).ALLOW_PRIVATE_TARGETS,
    ).toBe(true);
    expect(parseConfig({ ...on, AWS_ENDPOINT_URL: "http://localstack:4566" }, "api").ALLOW_PRIVATE_TARGETS).toBe(true);
    // An allow-list (loopback, or a name without a dot), not a deny-list of AWS's names: every other spelling of a
    // real service is refused, a trailing dot, an address or an alias included.
    for (const host of [
      "https://dynamodb.us-east-1.amazonaws.com.",
      "https://DYNAMODB.US-EAST-1.AMAZONAWS.COM",
      "https://dynamodb-fips.us-east-1.amazonaws.com",
      "https://dynamo.internal.example.com",
      "http://10.0.0.5:4566",
      "http://[::ffff:10.0.0.5]:4566",
      "http://localstack.:4566",
    ])
      expect(() => parseConfig({ ...on, AWS_ENDPOINT_URL: host }, "worker"), host).toThrow(/ALLOW_PRIVATE_TARGETS/);
    for (const host of [
      "http://localhost:4566",
      "http://127.0.0.2:8000",
      "http://[::1]:8000",
      "http://dynamodb-local:8000",
    ])
      expect(parseConfig({ ...on, AWS_ENDPOINT_URL: host }, "worker").ALLOW_PRIVATE_TARGETS, host).toBe(true);
    // Only the services act on it: the local orchestrator gets it from the user before it starts the emulators.
    expect(parseConfig({ ALLOW_PRIVATE_TARGETS: "true" }, "local").ALLOW_PRIVATE_TARGETS).toBe(true);
  });

  it("reads the ports public endpoints may use, 443 always among them", () => {
    expect(parseConfig(sealing, "worker").ALLOWED_TARGET_PORTS).toEqual([443, 8443]);
    expect(parseConfig({ ...sealing, ALLOWED_TARGET_PORTS: "9443" }, "worker").ALLOWED_TARGET_PORTS).toEqual([
      443, 9443,
    ]);
    expect(() => parseConfig({ ...sealing, ALLOWED_TARGET_PORTS: "443,ssh" }, "worker")).toThrow(
      /ALLOWED_TARGET_PORTS: a comma list of ports/,
    );
    expect(() => parseConfig({ ...sealing, ALLOWED_TARGET_PORTS: "70000" }, "worker")).toThrow(/ALLOWED_TARGET_PORTS/);
  });

  it("reads the origins that may frame the portal, and refuses anything that is not an origin", () => {
    expect(parseConfig(sealing, "worker").PORTAL_FRAME_ANCESTORS).toEqual([]);
    const c = parseConfig(
      { ...sealing, PORTAL_FRAME_ANCESTORS: "https://app.example.com, https://*.example.org:8443" },
      "worker",
    );
    expect(c.PORTAL_FRAME_ANCESTORS).toEqual(["https://app.example.com", "https://*.example.org:8443"]);
    for (const bad of [
      "*",
      "'unsafe-inline'",
      "https://app.example.com/path",
      "app.example.com",
      "https://a.example.com; script-src *",
    ]) {
      expect(() => parseConfig({ ...sealing, PORTAL_FRAME_ANCESTORS: bad }, "worker"), bad).toThrow(
        /PORTAL_FRAME_ANCESTORS:/,
      );
    }
  });

  it("requires an ADMIN_TOKEN of 32 characters or more for the API only (portal session keys derive from it)", () => {
    expect(() => parseConfig(sealing, "api")).toThrow(ConfigError);
    expect(() => parseConfig({ ...sealing, ADMIN_TOKEN: "x".repeat(31) }, "api")).toThrow(
      /ADMIN_TOKEN: must be at least 32/,
    );
    expect(parseConfig({ ...sealing, ADMIN_TOKEN: "x".repeat(32) }, "api").ADMIN_TOKEN).toHaveLength(32);
  });

  it("reads the client's address from the socket unless TRUST_PROXY_HOPS names the proxies in front", () => {
    expect(parseConfig(sealing, "worker").TRUST_PROXY_HOPS).toBe(0);
    expect(parseConfig({ ...sealing, TRUST_PROXY_HOPS: "1" }, "worker").TRUST_PROXY_HOPS).toBe(1);
  });

  it("requires exactly one way to seal signing secrets where they are written or read", () => {
    const admin = { ADMIN_TOKEN: "x".repeat(32) };
    for (const role of ["api", "worker"] as const) {
      expect(() => parseConfig(admin, role)).toThrow(/SECRETS_KMS_KEY_ID or SECRETS_KEY_FILE: exactly one is required/);
      expect(() => parseConfig({ ...admin, ...sealing, SECRETS_KMS_KEY_ID: "alias/x" }, role)).toThrow(/exactly one/);
      expect(
        parseConfig({ ...admin, SECRETS_KMS_KEY_ID: "arn:aws:kms:us-east-1:111122223333:key/abc" }, role)
          .SECRETS_KMS_KEY_ID,
      ).toMatch(/^arn:/);
    }
    // The bootstrap only when it seeds the demo tenant; the receiver and the CLI never.
    expect(() => parseConfig({ DEMO_TENANT_ID: `ten_${"0".repeat(22)}DEMO` }, "bootstrap")).toThrow(/exactly one/);
    expect(() => parseConfig({}, "bootstrap")).not.toThrow();
    expect(() => parseConfig({}, "receiver")).not.toThrow();
  });
});
