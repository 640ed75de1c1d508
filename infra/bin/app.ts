/** The CDK app: `npm run cdk -- synth|diff|deploy`. Configured by context (cdk.json, or -c key=value). */
import { App, Duration } from "aws-cdk-lib";
import { fileURLToPath } from "node:url";
import { WebhookPlatformStack } from "../lib/webhook-platform-stack.ts";

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === "string" || typeof value === "number" ? String(value) || undefined : undefined;
};
const required = (key: string): string => {
  const value = context(key);
  if (!value) throw new Error(`context '${key}' is required (cdk.json or -c ${key}=...)`);
  return value;
};

const cpuArchitecture = context("cpuArchitecture") ?? "x86_64";
if (cpuArchitecture !== "x86_64" && cpuArchitecture !== "arm64")
  throw new Error(`context 'cpuArchitecture' is x86_64 or arm64, not ${cpuArchitecture}`);

new WebhookPlatformStack(app, context("stackName") ?? "webhooks", {
  domainName: required("domainName"),
  hostedZoneId: required("hostedZoneId"),
  hostedZoneName: required("hostedZoneName"),
  imageTag: context("imageTag"),
  minWorkers: Number(context("minWorkers") ?? 1),
  maxWorkers: Number(context("maxWorkers") ?? 10),
  retrySchedule: context("retrySchedule"),
  deliveryTimeout: Duration.millis(Number(context("deliveryTimeoutMs") ?? 30_000)),
  imageDirectory: fileURLToPath(new URL("../..", import.meta.url)),
  cpuArchitecture,
  // `-c tracing=true`: the ADOT collector sidecar and X-Ray (README, Tracing); `-c traceSampleRatio=0.1` records a tenth.
  tracing: context("tracing") === "true",
  traceSampleRatio: context("traceSampleRatio") === undefined ? undefined : Number(context("traceSampleRatio")),
  adminCidrs: (context("adminCidrs") ?? "")
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean),
  waf: context("waf") === "true",
  wafRateLimit: context("wafRateLimit") === undefined ? undefined : Number(context("wafRateLimit")),
  // The region of your AWS profile; `region` in cdk.json only stands in for it where there is none (an offline synth).
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? context("region") },
});
