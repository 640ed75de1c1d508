/** Stored records to the API's snake_case JSON; secrets never pass through here. */
import type { Endpoint, Tenant } from "../core/tenant.ts";
import type { AttemptItem, EventItem } from "../aws/events/store.ts";
import { isSettled } from "../core/delivery-state.ts";
import type { ApiKeyRecord } from "../aws/api-keys.ts";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function endpointView(endpointId: string, e: Endpoint) {
  return {
    endpoint_id: endpointId,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    failing_since: iso(e.failingSince),
    created_at: iso(e.createdAt),
  };
}

/** A key as listed: its id and display prefix only; the key itself exists nowhere after creation. */
export function apiKeyView(k: ApiKeyRecord) {
  return {
    key_id: k.keyId,
    prefix: k.displayPrefix,
    created_at: iso(k.createdAt),
    last_used_day: k.lastUsedDay ?? null,
    revoked_at: iso(k.revokedAt) ?? null,
  };
}

export function tenantView(t: Tenant) {
  return {
    tenant_id: t.tenantId,
    name: t.name,
    status: t.status,
    created_at: iso(t.createdAt),
    endpoints: Object.entries(t.endpoints).map(([id, e]) => endpointView(id, e)),
  };
}

export function eventView(event: EventItem, attempts: readonly AttemptItem[]) {
  return {
    event_id: event.eventId,
    type: event.type ?? null,
    status: event.status,
    created_at: event.createdAt,
    payload: JSON.parse(Buffer.from(event.body).toString("utf8")) as unknown,
    deliveries: Object.entries(event.deliveries).map(([endpointId, d]) => ({
      endpoint_id: endpointId,
      webhook_id: d.webhookId,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: isSettled(d.status) ? undefined : iso(d.nextAttemptAt),
      last_status_code: d.lastStatusCode,
      last_error: d.lastError,
      delivered_at: iso(d.deliveredAt),
      dead_at: iso(d.deadAt),
      attempt_log: attempts
        .filter((a) => a.endpointId === endpointId)
        .sort((a, b) => a.attempt - b.attempt)
        .map((a) => ({
          attempt: a.attempt,
          at: iso(a.at),
          status_code: a.statusCode ?? null,
          duration_ms: a.durationMs,
          error: a.error ?? null,
          response_excerpt: a.responseExcerpt ?? null,
        })),
    })),
  };
}
