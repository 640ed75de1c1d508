/** cdk.json sets every feature flag this aws-cdk-lib recommends now: some replace resources when flipped later. */
import { CURRENTLY_RECOMMENDED_FLAGS } from "aws-cdk-lib/cx-api";
import { expect, it } from "vitest";
import { featureFlags } from "./app.ts";

/** Set otherwise on purpose (docs/ARCHITECTURE.md, Production). */
const exceptions: Record<string, unknown> = { "@aws-cdk/aws-ec2:restrictDefaultSecurityGroup": false };

it("sets every recommended feature flag, to its recommended value but for the written exceptions", () => {
  const unset = Object.keys(CURRENTLY_RECOMMENDED_FLAGS).filter((flag) => !(flag in featureFlags));
  expect(unset).toEqual([]);
  const different = Object.entries(CURRENTLY_RECOMMENDED_FLAGS)
    .filter(([flag, value]) => JSON.stringify(featureFlags[flag]) !== JSON.stringify(value))
    .map(([flag]) => flag);
  expect(Object.fromEntries(different.map((flag) => [flag, featureFlags[flag]]))).toEqual(exceptions);
});
