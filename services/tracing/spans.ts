/**
 * The platform's spans, through the OpenTelemetry API only: with no SDK registered (tracing off) every call here
 * is the API's no-op. Also the trace context as plain string fields, the form it takes in an SQS message
 * attribute or an HTTP header (W3C `traceparent`, `tracestate`). Attributes carry ids, never payloads or secrets.
 */
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from "@opentelemetry/api";

export { SpanKind, type Span };

const tracer = trace.getTracer("webhook-delivery-platform");

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** The parent; the active context when absent. */
  readonly parent?: Context;
  readonly links?: Link[];
}

/** Marks a span failed, by a kind of error only: an error's message may quote a payload or a response. */
export function failed(span: Span, type: string): void {
  span.setAttribute("error.type", type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/** Runs `work` in a new span, active for its duration, ended when it settles; a throw marks it failed. */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const { parent, ...rest } = options;
  return tracer.startActiveSpan(name, rest, parent ?? context.active(), async (span) => {
    try {
      return await work(span);
    } catch (err) {
      failed(span, err instanceof Error ? err.name : "Error");
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `work` in a span that starts a trace of its own, linked to the one active now: what one party does on another's
 * behalf (the platform telling operators about a tenant's delivery) carries none of the other's trace context.
 */
export function inOwnTrace<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const current = trace.getSpanContext(context.active());
  const links = current && isSpanContextValid(current) ? [{ context: current }] : [];
  return inSpan(name, { ...options, parent: ROOT_CONTEXT, links: [...(options.links ?? []), ...links] }, work);
}

/** A span the caller ends itself (one that outlives a call, such as a request's). */
export function startSpan(name: string, options: SpanOptions = {}): { span: Span; context: Context } {
  const { parent = context.active(), ...rest } = options;
  const span = tracer.startSpan(name, rest, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Whether a span belongs to a trace at all (false for every span while tracing is off). */
export function inTrace(span: Span): boolean {
  return isSpanContextValid(span.spanContext());
}

/** The active span (a no-op one when there is none), to add attributes to the step that is running. */
export function activeSpan(): Span {
  return trace.getActiveSpan() ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
}

/** The trace context as carrier fields (`traceparent`, `tracestate`); empty when tracing is off. */
export function traceFields(ctx: Context = context.active()): Record<string, string> {
  const fields: Record<string, string> = {};
  propagation.inject(ctx, fields);
  return fields;
}

/** A context continuing the trace named in carrier fields (request headers, message attributes), or a new root. */
export function contextFrom(fields: Readonly<Record<string, string | string[] | undefined>> | undefined): Context {
  return fields ? propagation.extract(ROOT_CONTEXT, fields) : ROOT_CONTEXT;
}

/** A link to the trace named in carrier fields, when they name one. */
export function linkTo(fields: Readonly<Record<string, string>> | undefined): Link[] {
  const span = trace.getSpanContext(contextFrom(fields));
  return span && isSpanContextValid(span) ? [{ context: span }] : [];
}

/** Runs `fn` with `ctx` active. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
