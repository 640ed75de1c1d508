import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../services");

function importsOf(dir: string): [string, string][] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) =>
      [...readFileSync(join(dir, f), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => [f, m[1]!] as [string, string]),
    );
}

describe("dependency direction", () => {
  it("keeps services/core free of the AWS SDK, Express, got and the rest of services/", () => {
    const bad = importsOf(join(root, "core")).filter(
      ([, spec]) => /^(@aws-sdk|express|got|pino)/.test(spec) || spec.startsWith(".."),
    );
    expect(bad).toEqual([]);
  });

  it("gives the API stores, never an AWS client: services/api imports neither the SDK nor aws/clients.ts", () => {
    const bad = importsOf(join(root, "api")).filter(
      ([, spec]) => spec.startsWith("@aws-sdk") || spec.endsWith("aws/clients.ts"),
    );
    expect(bad).toEqual([]);
  });

  it("keeps the AWS SDK inside services/aws (and the local emulators)", () => {
    const bad = importsOf(root).filter(([file, spec]) => spec.startsWith("@aws-sdk") && !file.startsWith("aws/"));
    expect(bad).toEqual([]);
  });
});
