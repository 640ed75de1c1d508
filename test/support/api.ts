/** Small helpers for driving the API as a tenant would. */
import type { Stack } from "./stack.ts";

export function postEvent(stack: Stack, apiKey: string, body: unknown, headers: Record<string, string> = {}) {
  const req = stack.http
    .post("/v1/events")
    .set("authorization", `Bearer ${apiKey}`)
    .set("content-type", "application/json");
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req.send(typeof body === "string" ? body : JSON.stringify(body));
}

export interface EventView {
  event_id: string;
  status: string;
  type: string | null;
  payload: unknown;
  schema: { version: number; valid: boolean; errors: { pointer: string; message: string }[] } | null;
  filtered_endpoints: string[];
  deliveries: {
    endpoint_id: string;
    webhook_id: string;
    status: string;
    attempts: number;
    last_error?: string;
    dead_at?: string;
    skipped_at?: string;
    attempt_log: {
      attempt: number;
      status_code: number | null;
      error: string | null;
      duration_ms: number;
      response_excerpt: string | null;
    }[];
  }[];
}

export async function getEvent(stack: Stack, apiKey: string, eventId: string): Promise<EventView> {
  const res = await stack.http.get(`/v1/events/${eventId}`).set("authorization", `Bearer ${apiKey}`);
  if (res.status !== 200) throw new Error(`GET event: ${res.status}`);
  return res.body as EventView;
}
