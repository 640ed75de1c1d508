/**
 * The /v1 API as the portal calls it, with the session's token: the same routes and answers a tenant's key gets.
 * Request and response types come from the API's own schemas (type-only imports: nothing of the server reaches the
 * bundle).
 */
import type { z } from "zod";
import type { endpointSchemas } from "../../../services/api/endpoint-requests.ts";
import type { orderingKeySkippedSchema } from "../../../services/api/ordering-keys.ts";
import type * as views from "../../../services/api/views.ts";
import { query, request } from "../shared/http.ts";
import type { OrderingKeyPage } from "../shared/ordering.ts";
import { credential } from "./session.ts";

export type Endpoint = z.output<typeof views.endpointViewSchema>;
export type EndpointWithSecret = z.output<typeof views.endpointWithSecretSchema>;
export type Rotated = z.output<typeof views.rotatedEndpointSchema>;
export type Stats = z.output<typeof views.endpointStatsSchema>;
export type EventSummary = z.output<typeof views.eventSummaryViewSchema>;
export type EventDetail = z.output<typeof views.eventViewSchema>;
export type Recovered = z.output<typeof views.recoveredSchema>;
type Schemas = ReturnType<typeof endpointSchemas>;
export type EndpointInput = z.input<Schemas["create"]>;
export type EndpointChange = z.input<Schemas["update"]>;
export type RecoverInput = z.input<Schemas["recover"]>;
export type FilterTest = z.output<typeof views.filterTestSchema>;
export type EventType = z.output<typeof views.eventTypeViewSchema>;
export type PayloadFilter = z.input<Schemas["filterTest"]>["filter"];
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

const call = <T>(method: string, path: string, body?: unknown) => request<T>(credential(), method, path, body);
const one = (endpointId: string) => `/v1/endpoints/${encodeURIComponent(endpointId)}`;
const evt = (eventId: string) => `/v1/events/${encodeURIComponent(eventId)}`;

export const tenant = () => call<z.output<typeof views.tenantIdentitySchema>>("GET", "/v1/tenant");
export const endpoints = () => call<Page<Endpoint>>("GET", "/v1/endpoints");
export const endpoint = (id: string) => call<Endpoint>("GET", one(id));
export const stats = (id: string) => call<Stats>("GET", `${one(id)}/stats`);
export const createEndpoint = (input: EndpointInput) => call<EndpointWithSecret>("POST", "/v1/endpoints", input);
export const changeEndpoint = (id: string, change: EndpointChange) => call<Endpoint>("PATCH", one(id), change);
export const deleteEndpoint = (id: string) => call<undefined>("DELETE", one(id));
export const rotateSecret = (id: string, gracePeriod: string) =>
  call<Rotated>("POST", `${one(id)}/rotate-secret`, { grace_period: gracePeriod });
export const sendTest = (id: string, example?: { event_type: string; example: number }) =>
  call<z.output<typeof views.testEventSchema>>("POST", `${one(id)}/test`, example);
export const testFilter = (filter: PayloadFilter, eventTypes: string[]) =>
  call<FilterTest>("POST", "/v1/endpoints/test-filter", {
    filter,
    ...(eventTypes.length ? { event_types: eventTypes } : {}),
  });
export const eventTypes = (cursor?: string) =>
  call<Page<EventType>>("GET", `/v1/event-types?${query({ limit: 100, cursor })}`);
export const catalogDocument = () => call<unknown>("GET", "/v1/event-types/openapi.json");
export const orderingKeys = (id: string, cursor?: string) =>
  call<OrderingKeyPage>("GET", `${one(id)}/ordering-keys?${query({ limit: 100, cursor })}`);
export const skipOrderingKey = (id: string, key: string) =>
  call<z.output<typeof orderingKeySkippedSchema>>("POST", `${one(id)}/ordering-keys/${encodeURIComponent(key)}/skip`);
export const recover = (id: string, input: RecoverInput) => call<Recovered>("POST", `${one(id)}/recover`, input);
export const events = (filter: { type?: string; status?: string; cursor?: string | undefined }) =>
  call<Page<EventSummary>>("GET", `/v1/events?${query({ ...filter, limit: 25 })}`);
export const event = (id: string) => call<EventDetail>("GET", evt(id));
export const retryEvent = (id: string) => call<z.output<typeof views.requeuedSchema>>("POST", `${evt(id)}/retry`);
