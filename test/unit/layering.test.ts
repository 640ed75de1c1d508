import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "../..");
const root = join(repo, "services");
const clientSrc = join(repo, "clients/typescript/src");

function importsOf(dir: string): [string, string][] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) =>
      [...readFileSync(join(dir, f), "utf8").matchAll(/from ["']([^"']+)["']/g)].map(
        (m) => [f, m[1]!] as [string, string],
      ),
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

  it("keeps the client package to its own sources, node: builtins, and the signing code it shares with services/core", () => {
    const bad = importsOf(clientSrc).filter(([file, spec]) => {
      if (!spec.startsWith(".")) return !spec.startsWith("node:");
      const target = relative(repo, resolve(clientSrc, file, "..", spec));
      return !target.startsWith("clients/typescript/src/") && target !== "services/core/signing.ts";
    });
    expect(bad).toEqual([]);
  });

  it("lets only the admin CLI among the services use the client (the API's own code never calls itself)", () => {
    const bad = importsOf(root).filter(
      ([file, spec]) =>
        relative(repo, resolve(root, file, "..", spec)).startsWith("clients/") && !file.startsWith("cli/"),
    );
    expect(bad).toEqual([]);
  });

  it("keeps the AWS SDK inside services/aws (and the local emulators)", () => {
    const bad = importsOf(root).filter(([file, spec]) => spec.startsWith("@aws-sdk") && !file.startsWith("aws/"));
    expect(bad).toEqual([]);
  });
});
