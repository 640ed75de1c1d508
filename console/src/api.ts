/**
 * The admin API as the console calls it. Response types come from the API's own schemas (type-only
 * imports: nothing of the server reaches the bundle). The admin token lives in this module's memory only:
 * never in storage or a cookie, so a reload asks for it again.
 */
import type { z } from "zod";
import type * as views from "../../services/api/views.ts";
import { isSystemTenant } from "../../services/core/system-tenant.ts";
import { request, query } from "./shared/http.ts";
import type { OrderingKeyPage } from "./shared/ordering.ts";

export { ApiError } from "./shared/http.ts";

export type Stats = z.output<typeof views.statsSchema>;
export type Tenant = z.output<typeof views.tenantViewSchema>;
export type EventSummary = z.output<typeof views.eventSummaryViewSchema>;
export type EventDetail = z.output<typeof views.eventViewSchema>;
export type StatsHistory = z.output<typeof views.statsHistorySchema>;
export type DeadLetterPage = z.output<typeof views.deadLetterPageSchema>;
export type RequeueReport = z.output<typeof views.requeueReportSchema>;
export type Endpoint = z.output<typeof views.endpointViewSchema>;
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

let token = "";

const call = <T>(method: string, path: string, body?: unknown) => request<T>(token, method, path, body);

/** Keeps the token if the API accepts it. */
export async function logIn(candidate: string): Promise<Stats> {
  token = candidate;
  try {
    return await stats();
  } catch (err) {
    token = "";
    throw err;
  }
}

export function logOut(): void {
  token = "";
}

const tenantPath = (tenantId: string) => `/admin/tenants/${encodeURIComponent(tenantId)}`;
/** A tenant's events; the system tenant's (operational events, which the DLQ may hold) have routes of their own. */
const eventsPath = (tenantId: string) =>
  isSystemTenant(tenantId) ? "/admin/operational-events" : `${tenantPath(tenantId)}/events`;

export const stats = () => call<Stats>("GET", "/admin/stats");
export const statsHistory = (window: "hour" | "day") =>
  call<StatsHistory>("GET", `/admin/stats/history?${query({ window })}`);
export const tenants = () => call<Page<Tenant>>("GET", "/admin/tenants?limit=100");
export const events = (tenantId: string, status: string) =>
  call<Page<EventSummary>>("GET", `${eventsPath(tenantId)}?${query({ status, limit: 50 })}`);
export const event = (tenantId: string, eventId: string) =>
  call<EventDetail>("GET", `${eventsPath(tenantId)}/${encodeURIComponent(eventId)}`);
export const retryEvent = (tenantId: string, eventId: string) =>
  call<z.output<typeof views.requeuedSchema>>("POST", `${eventsPath(tenantId)}/${encodeURIComponent(eventId)}/retry`);
export const deadLetters = (tenantId: string) =>
  call<DeadLetterPage>("GET", `/admin/dlq?${query({ tenant_id: tenantId, limit: 50 })}`);
export const requeue = (filter: { tenantId: string; maxMessages: number; dryRun: boolean }) =>
  call<RequeueReport>("POST", "/admin/dlq/requeue", {
    ...(filter.tenantId ? { tenant_id: filter.tenantId } : {}),
    max_messages: filter.maxMessages,
    dry_run: filter.dryRun,
  });
export const setEndpointEnabled = (tenantId: string, endpointId: string, enabled: boolean) =>
  call<Endpoint>("PATCH", `${tenantPath(tenantId)}/endpoints/${encodeURIComponent(endpointId)}`, { enabled });
export const orderingKeys = (tenantId: string, endpointId: string, cursor?: string) =>
  call<OrderingKeyPage>(
    "GET",
    `${tenantPath(tenantId)}/endpoints/${encodeURIComponent(endpointId)}/ordering-keys?${query({ limit: 100, cursor })}`,
  );
