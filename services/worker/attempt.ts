/**
 * The attempt itself: a POST to the endpoint's URL, or a put into its AWS destination, with the same signatures
 * (webhook-id, timestamp, both signature styles) either way, computed when it goes.
 */
import { signatureHeaders } from "../core/signing.ts";
import type { PostResult } from "../outbound/guarded-client.ts";
import type { DeliverDeps, Ready } from "./deliver-deps.ts";

export function attempt(deps: DeliverDeps, r: Ready): Promise<PostResult> {
  const sentAt = deps.now();
  const { webhookId } = r.event.deliveries[r.key.endpointId]!;
  const signed = signatureHeaders({
    webhookId,
    timestamp: Math.floor(sentAt / 1000),
    body: r.event.body,
    secrets: r.secrets,
  });
  const { destination } = r.endpoint;
  if (destination) {
    const { key, event } = r;
    const message = {
      body: event.body,
      signatureHeaders: signed,
      eventType: event.type ?? "",
      eventId: key.eventId,
      orderingKey: event.orderingKey,
      tenantId: key.tenantId,
    };
    return deps.ops.send(destination, message);
  }
  const headers = { "content-type": "application/json", ...signed };
  return deps.ops.post(r.endpoint.url, r.event.body, headers, r.endpoint.sendTraceparent ?? true);
}
