/** A CDK App as `cdk` runs ours: with cdk.json's feature flags, which change what the constructs synthesize. */
import { App } from "aws-cdk-lib";
import { readFileSync } from "node:fs";

const { context } = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
export const featureFlags = Object.fromEntries(Object.entries(context).filter(([key]) => key.startsWith("@aws-cdk")));

export function newApp(): App {
  return new App({ context: featureFlags });
}
