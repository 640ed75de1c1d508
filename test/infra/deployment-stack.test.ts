/**
 * Our app is a user of the construct, and a stack deployed before the platform was a construct updates in place:
 * every resource keeps its logical id and type (a new id is a new resource: new tables, new addresses), and nothing
 * derived from a construct path (a security group's description, which replaces the group) names the construct.
 */
import { Template } from "aws-cdk-lib/assertions";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deploymentStack } from "../../infra/lib/deployment-stack.ts";
import { loadSettings, settingsSchema, type Settings } from "../../infra/lib/settings.ts";
import { newApp } from "./app.ts";

const stackClass = JSON.parse(readFileSync(new URL("./stack-class-resources.json", import.meta.url), "utf8")) as Record<
  "example" | "everything",
  Record<string, string>
>;

/** Every optional resource on: an image from ECR, tracing, a kept key, the user's topic, provisioned capacity, … */
const everything: Settings = settingsSchema.parse({
  stackName: "Hooks-Prod",
  region: "eu-west-1",
  account: "210987654321",
  domainName: "hooks.acme-payments.io",
  hostedZoneId: "Z04512ABCDEF",
  hostedZoneName: "acme-payments.io",
  adminCidrs: ["81.2.69.0/24"],
  waf: true,
  wafRateLimit: 5000,
  alarmTopicArn: "arn:aws:sns:eu-west-1:210987654321:pager",
  signingKeyArn: "arn:aws:kms:eu-west-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  imageTag: "v1.2.3",
  imageRepository: "hooks",
  cpuArchitecture: "arm64",
  minWorkers: 3,
  maxWorkers: 12,
  retrySchedule: "30s,1m,5m",
  deliveryTimeoutMs: 15000,
  tracing: true,
  traceSampleRatio: 0.1,
  ecsExec: true,
  eventsTableCapacity: { minWriteUnits: 100, maxWriteUnits: 400, minReadUnits: 10, maxReadUnits: 50 },
  tags: { team: "payments" },
});

describe("a stack deployed when the platform was the stack itself", () => {
  for (const [name, settings] of [
    ["example", () => loadSettings("example")],
    ["everything", () => everything],
  ] as const) {
    it(`keeps every resource's logical id and type (${name} settings)`, () => {
      const template = Template.fromStack(deploymentStack(newApp(), settings())).toJSON() as {
        Resources: Record<string, { Type: string }>;
      };
      const now = Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [id, r.Type]));
      const lost = Object.entries(stackClass[name]).filter(([id, type]) => now[id] !== type);
      expect(lost).toEqual([]);
      // Security group descriptions and Name tags come from construct paths: the same as before, so no replacement.
      expect(JSON.stringify(template).match(/"[^"]*\/Default\/[^"]*"/g) ?? []).toEqual([]);
    }, 180_000);
  }
});
