/** The construct's example app (infra/examples/) synthesizes as `cdk` runs it, the platform inside the user's stack. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { featureFlags } from "./app.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), "webhooks-example-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

it("synthesizes the platform beside the team's own resources, wired to their topic and role", () => {
  const run = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "infra/examples/existing-app.ts"], {
    cwd: root,
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(featureFlags) },
    encoding: "utf8",
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const { Resources } = JSON.parse(readFileSync(join(outdir, "Payments.template.json"), "utf8")) as Template;
  const ofType = (type: string) => Object.entries(Resources).filter(([, r]) => r.Type === type);
  expect(ofType("AWS::DynamoDB::Table").map(([, r]) => r.Properties.TableName)).toEqual([
    "payments-webhooks-tenants",
    "payments-webhooks-api-keys",
    "payments-webhooks-events",
  ]);
  // The team's pager gets the alarms; the platform made no topic of its own.
  const [[pager]] = ofType("AWS::SNS::Topic") as [[string, unknown]];
  expect(pager).toMatch(/^Pager/);
  for (const [, alarm] of ofType("AWS::CloudWatch::Alarm").filter(([id]) => id.startsWith("WebhooksAlarms")))
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: pager }]);
  // Its image from the team's registry, on Graviton; the worker at its size.
  const tasks = ofType("AWS::ECS::TaskDefinition").map(([, r]) => r.Properties);
  for (const task of tasks) {
    expect(task.RuntimePlatform).toMatchObject({ CpuArchitecture: "ARM64" });
    expect(JSON.stringify(task.ContainerDefinitions)).toContain("webhook-platform:v1.4.0");
  }
  expect(tasks.map((t) => [t.Cpu, t.Memory])).toContainEqual(["1024", "2048"]);
  // The team's role reads the events table.
  const support = ofType("AWS::IAM::Policy").find(([id]) => id.startsWith("SupportDefaultPolicy"))!;
  expect(JSON.stringify(support[1].Properties)).toContain("dynamodb:Query");
  expect(ofType("AWS::WAFv2::WebACL")).toHaveLength(1);
}, 180_000);
