/**
 * The OpenTelemetry SDK, started only when tracing is configured: until then nothing of it is loaded and the
 * spans of tracing/spans.ts are the API's no-ops. Synchronous on purpose (require, not import()): each service's
 * instrument.ts runs this as main.ts's first import, and ESM evaluates a module's imports in order, so a synchronous
 * first import finishes before any app module is evaluated; an awaited import() would not hold the next imports back.
 */
import { createRequire } from "node:module";
import { context, propagation, trace } from "@opentelemetry/api";
import type { TracingSettings } from "../config.ts";
import { callerBlindSampler } from "./sampler.ts";

let provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> } | undefined;

/**
 * The Node flag a traced service runs with (NODE_OPTIONS in the CDK stack, `npm start`, the bench): the context
 * manager's AsyncLocalStorage otherwise rides on async_hooks, which taxes every promise (the AWS SDK makes many;
 * ingestion lost up to half its throughput). AsyncContextFrame, Node 24's default, keeps the context for ~nothing.
 */
export const tracingNodeFlag = "--experimental-async-context-frame";

/**
 * Registers the SDK for `serviceName` when `settings` says tracing is on; answers whether it did. `untrustedParents`:
 * a remote parent is a caller's (the API), not ours, so its sampling decision is not followed (sampler.ts); the worker's
 * remote parents are the API's own, carried in SQS message attributes, and are followed.
 */
export function startTracing(
  serviceName: string,
  settings: TracingSettings | undefined,
  opts: { untrustedParents?: boolean } = {},
): boolean {
  if (!settings || provider) return provider !== undefined;
  const load = createRequire(import.meta.url);
  const sdk = load("@opentelemetry/sdk-trace") as typeof import("@opentelemetry/sdk-trace");
  const { OTLPTraceExporter } = load(
    "@opentelemetry/exporter-trace-otlp-http",
  ) as typeof import("@opentelemetry/exporter-trace-otlp-http");
  const { AsyncLocalStorageContextManager } = load(
    "@opentelemetry/context-async-hooks",
  ) as typeof import("@opentelemetry/context-async-hooks");
  const core = load("@opentelemetry/core") as typeof import("@opentelemetry/core");
  const resources = load("@opentelemetry/resources") as typeof import("@opentelemetry/resources");

  // Our name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise (the standard's precedence).
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ "service.name": serviceName }))
    .merge(
      resources.detectResources({
        detectors: [resources.resourceAttributesEnvDetector, resources.serviceNameEnvDetector],
      }),
    );
  // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_EXPORTER_OTLP_* variables) itself.
  const exporter = new OTLPTraceExporter();
  const tracerProvider = new sdk.TracerProvider({
    resource,
    sampler: new sdk.ParentBasedSampler({
      root: new sdk.TraceIdRatioBasedSampler(settings.sampleRatio),
      ...(opts.untrustedParents
        ? {
            remoteParentSampled: callerBlindSampler(sdk, core, settings.sampleRatio),
            remoteParentNotSampled: callerBlindSampler(sdk, core, settings.sampleRatio),
          }
        : {}),
    }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  provider = tracerProvider;
  return true;
}

/** Sends the spans still buffered, waiting at most `timeoutMs` (a collector that is down must not hold a shutdown). */
export async function stopTracing(timeoutMs = 3000): Promise<void> {
  if (!provider) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    provider.shutdown().catch(() => undefined),
    new Promise((r) => (timer = setTimeout(r, timeoutMs))),
  ]);
  clearTimeout(timer);
}
