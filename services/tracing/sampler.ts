/**
 * The sampler for a trace context someone outside the platform sent (a tenant's `traceparent` on POST /v1/events):
 * the caller's trace id is kept, so its trace goes on through ours, but whether it is recorded is our own coin at the
 * configured ratio. Neither the caller's sampled flag nor a trace id chosen to land inside the ratio can make us
 * export (and pay for) a trace; its `tracestate` (vendor data of theirs) is dropped here, so it rides nowhere further.
 * The SDK's modules come from start.ts, which loads them only when tracing is on.
 */
import type { Sampler } from "@opentelemetry/sdk-trace";

type Sdk = Pick<typeof import("@opentelemetry/sdk-trace"), "SamplingDecision">;
type Core = Pick<typeof import("@opentelemetry/core"), "TraceState">;

export function callerBlindSampler(sdk: Sdk, core: Core, ratio: number, random: () => number = Math.random): Sampler {
  return {
    shouldSample: () => ({
      decision: random() < ratio ? sdk.SamplingDecision.RECORD_AND_SAMPLED : sdk.SamplingDecision.NOT_RECORD,
      traceState: new core.TraceState(),
    }),
    toString: () => `CallerBlindSampler{${ratio}}`,
  };
}
