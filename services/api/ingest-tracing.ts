/**
 * The ingestion's span: `POST /v1/events` (server), continuing the client's `traceparent` when it sends one (under
 * the API's caller-blind sampler: the client's sampled flag decides nothing, its tracestate is dropped, see
 * tracing/sampler.ts); acceptEvent adds `store event` and `enqueue deliveries` under it. create-app.ts mounts it after
 * the API key check, so a request that is not authenticated starts no span at all (a 401 flood costs no trace). With
 * tracing off it only calls next().
 */
import type { RequestHandler } from "express";
import { contextFrom, failed, inTrace, SpanKind, startSpan, withContext } from "../tracing/spans.ts";

export const traceIngestion: RequestHandler = (req, res, next) => {
  if (req.method !== "POST" || req.path !== "/") return next();
  const attributes = { "http.request.method": "POST", "http.route": "/v1/events" };
  const { span, context } = startSpan("POST /v1/events", {
    kind: SpanKind.SERVER,
    parent: contextFrom(req.headers),
    attributes,
  });
  // No trace context at all: tracing is off (a sampled-out request still has one, and passes it on).
  if (!inTrace(span)) return next();
  if (req.tenant) span.setAttribute("webhook.tenant_id", req.tenant.tenantId);
  res.once("close", () => {
    span.setAttribute("http.response.status_code", res.statusCode);
    if (res.statusCode >= 500) failed(span, String(res.statusCode));
    span.end();
  });
  withContext(context, next);
};
