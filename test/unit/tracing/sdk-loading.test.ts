/**
 * Tracing off costs nothing: with OTEL_EXPORTER_OTLP_ENDPOINT unset, a service loads its whole module graph
 * without one module of the OpenTelemetry SDK (only the API, whose calls are then no-ops); set, the SDK loads
 * before the app does. The services are run for real and stop at their configuration check.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));

/** The @opentelemetry packages a service's process loaded before it stopped (no ADMIN_TOKEN / no backends). */
function packagesLoaded(role: "api" | "worker", env: Record<string, string>): string[] {
  const { PATH, HOME } = process.env;
  const out = spawnSync(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      "--import",
      "./test/support/record-modules.ts",
      `services/${role}/main.ts`,
    ],
    // A worker without backends stops at its first call to SQS, which no one answers on port 9.
    {
      cwd: root,
      env: {
        PATH,
        HOME,
        AWS_ENDPOINT_URL: "http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID: "x",
        AWS_SECRET_ACCESS_KEY: "x",
        ...env,
      },
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  const line = out.stderr.split("\n").find((l) => l.startsWith('{"opentelemetry"'));
  expect(line, out.stderr).toBeDefined();
  return (JSON.parse(line!) as { opentelemetry: string[] }).opentelemetry;
}

describe("loading the tracing SDK", () => {
  it.each(["api", "worker"] as const)("the %s loads only the API when OTEL_EXPORTER_OTLP_ENDPOINT is unset", (role) => {
    expect(packagesLoaded(role, {})).toEqual(["@opentelemetry/api"]);
  });

  it.each(["api", "worker"] as const)("the %s loads the SDK and the OTLP exporter when it is set", (role) => {
    const loaded = packagesLoaded(role, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" });
    expect(loaded).toEqual(
      expect.arrayContaining([
        "@opentelemetry/sdk-trace",
        "@opentelemetry/exporter-trace-otlp-http",
        "@opentelemetry/context-async-hooks",
      ]),
    );
  });
});
