/**
 * The ingestion's spans: `POST /v1/events` (server), continuing the client's `traceparent` when it sends one, and
 * its first step, `authenticate`; acceptEvent adds `store event` and `enqueue deliveries` under it. create-app.ts
 * mounts `beginIngestion` before the API key check and `authenticated` after it. With tracing off both only call
 * next().
 */
import type { Request, RequestHandler } from "express";
import { contextFrom, failed, inTrace, SpanKind, startSpan, withContext, type Span } from "../tracing/spans.ts";

/** The open `authenticate` span of each request being authenticated. */
const authenticating = new WeakMap<Request, Span>();

export const beginIngestion: RequestHandler = (req, res, next) => {
  if (req.method !== "POST" || req.path !== "/") return next();
  const attributes = { "http.request.method": "POST", "http.route": "/v1/events" };
  const { span, context } = startSpan("POST /v1/events", {
    kind: SpanKind.SERVER,
    parent: contextFrom(req.headers),
    attributes,
  });
  // No trace context at all: tracing is off (a sampled-out request still has one, and passes it on).
  if (!inTrace(span)) return next();
  const auth = startSpan("authenticate", { parent: context }).span;
  authenticating.set(req, auth);
  res.once("close", () => {
    if (authenticating.delete(req)) {
      failed(auth, String(res.statusCode));
      auth.end();
    }
    if (req.tenant) span.setAttribute("webhook.tenant_id", req.tenant.tenantId);
    span.setAttribute("http.response.status_code", res.statusCode);
    if (res.statusCode >= 500) failed(span, String(res.statusCode));
    span.end();
  });
  withContext(context, next);
};

export const authenticated: RequestHandler = (req, _res, next) => {
  const auth = authenticating.get(req);
  if (auth) {
    authenticating.delete(req);
    if (req.tenant) auth.setAttribute("webhook.tenant_id", req.tenant.tenantId);
    auth.end();
  }
  next();
};
