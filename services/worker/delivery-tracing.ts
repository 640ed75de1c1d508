/**
 * A delivery's spans. `deliver` (consumer) for each received message, a child of the context its sender put in
 * the message's attributes: the ingestion for a new event, so every receive of that message (the first attempt,
 * each retry after its backoff, a redelivery after a crash) joins the event's trace. Under it: `lease`, the
 * `POST` to the receiver (status and latency; it hands the receiver a traceparent unless the endpoint opts out) or
 * the call into an AWS destination (`sqs:SendMessage`, …),
 * and `record attempt` / `record outcome`. Wrappers, so deliver.ts stays the delivery story.
 */
import { totalAttempts } from "../core/delivery-state.ts";
import { actionOf } from "../core/destination.ts";
import { parseDeliveryMessage } from "../aws/delivery-queue.ts";
import { activeSpan, contextFrom, failed, inSpan, SpanKind, traceFields } from "../tracing/spans.ts";
import type { DeliveryOps } from "./deliver-deps.ts";
import type { Disposition, Received } from "./scheduler.ts";

export function traceDelivery(m: Received, work: () => Promise<Disposition>): Promise<Disposition> {
  const attributes = {
    "messaging.system": "aws_sqs",
    "messaging.operation.type": "process",
    "messaging.message.id": m.messageId,
    "webhook.receive_count": m.receiveCount,
  };
  return inSpan("deliver", { kind: SpanKind.CONSUMER, parent: contextFrom(m.attributes), attributes }, async (span) => {
    const ref = span.isRecording() ? parseDeliveryMessage(m.body) : undefined;
    if (ref)
      span.setAttributes({
        "webhook.tenant_id": ref.tenantId,
        "webhook.event_id": ref.eventId,
        "webhook.endpoint_id": ref.endpointId,
      });
    const d = await work();
    span.setAttribute("webhook.disposition", d.kind);
    return d;
  });
}

export function traceDeliveryOps(ops: DeliveryOps): DeliveryOps {
  return {
    ...ops,
    takeLease(key, input) {
      const delivery = activeSpan();
      return inSpan("lease", {}, async (span) => {
        const lease = await ops.takeLease(key, input);
        span.setAttribute("webhook.lease", lease.ok ? "taken" : lease.reason);
        if (lease.ok) delivery.setAttribute("webhook.attempt", totalAttempts(lease.delivery));
        return lease;
      });
    },
    post(url, body, headers, sendTraceContext) {
      const target = new URL(url);
      const attributes = {
        "http.request.method": "POST",
        "server.address": target.hostname,
        "server.port": Number(target.port) || (target.protocol === "https:" ? 443 : 80),
      };
      return inSpan("POST", { kind: SpanKind.CLIENT, attributes }, async (span) => {
        // Taken inside this span: the receiver's parent is this POST.
        const res = await ops.post(
          url,
          body,
          sendTraceContext ? { ...headers, ...traceFields() } : headers,
          sendTraceContext,
        );
        span.setAttribute("webhook.attempt.duration_ms", res.durationMs);
        if (res.statusCode !== undefined) span.setAttribute("http.response.status_code", res.statusCode);
        if (res.statusCode === undefined || res.statusCode >= 400)
          failed(span, res.statusCode === undefined ? "no_response" : String(res.statusCode));
        return res;
      });
    },
    send(dest, message) {
      const attributes = {
        "rpc.system": "aws-api",
        "rpc.method": actionOf[dest.type],
        "webhook.destination": dest.type,
      };
      return inSpan(actionOf[dest.type], { kind: SpanKind.CLIENT, attributes }, async (span) => {
        const res = await ops.send(dest, message);
        span.setAttribute("webhook.attempt.duration_ms", res.durationMs);
        if (res.statusCode === undefined) failed(span, res.verdict ?? "no_response");
        return res;
      });
    },
    recordAttempt: (tenantId, attempt) => inSpan("record attempt", {}, () => ops.recordAttempt(tenantId, attempt)),
    recordOutcome(key, outcome, input, known) {
      const delivery = activeSpan();
      return inSpan("record outcome", {}, async (span) => {
        const decision = await ops.recordOutcome(key, outcome, input, known);
        const what = decision.ok ? decision.next : decision.reason;
        span.setAttribute("webhook.outcome", what);
        delivery.setAttribute("webhook.outcome", what);
        return decision;
      });
    },
  };
}
