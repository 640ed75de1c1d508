/**
 * Whose endpoints and events a CLI command acts on: a tenant's (under /admin/tenants/{id}) or, for the target `ops`,
 * the operational webhooks' (/admin/operational-endpoints, /admin/operational-events). The same operations either way.
 */
import type {
  AttemptPage,
  Endpoint,
  EndpointPage,
  EndpointRecovered,
  EndpointStats,
  EndpointWithSecret,
  Event,
  EventPage,
  EventRequeued,
  GetV1EventsData,
  OrderingKeyPage,
  OrderingKeySkipped,
  PayloadErased,
  PatchV1EndpointsByEndpointIdData,
  PlatformApi,
  PostV1EndpointsByEndpointIdRecoverData,
  PostV1EndpointsByEndpointIdRotateSecretData,
  PostV1EndpointsData,
  RotatedEndpoint,
  TestEventSent,
} from "../../clients/typescript/src/index.ts";

export interface Scope {
  listEndpoints(): Promise<EndpointPage>;
  addEndpoint(body: PostV1EndpointsData["body"]): Promise<EndpointWithSecret>;
  getEndpoint(endpointId: string): Promise<Endpoint>;
  changeEndpoint(endpointId: string, body: PatchV1EndpointsByEndpointIdData["body"]): Promise<Endpoint>;
  deleteEndpoint(endpointId: string): Promise<unknown>;
  rotateSecret(endpointId: string, body: PostV1EndpointsByEndpointIdRotateSecretData["body"]): Promise<RotatedEndpoint>;
  endpointStats(endpointId: string): Promise<EndpointStats>;
  testEndpoint(endpointId: string): Promise<TestEventSent>;
  recover(endpointId: string, body: PostV1EndpointsByEndpointIdRecoverData["body"]): Promise<EndpointRecovered>;
  listEvents(query: GetV1EventsData["query"]): Promise<EventPage>;
  getEvent(eventId: string): Promise<Event>;
  retryEvent(eventId: string): Promise<EventRequeued>;
  listAttempts(eventId: string, endpointId: string, cursor: string | undefined): Promise<AttemptPage>;
  erasePayload(eventId: string): Promise<PayloadErased>;
  orderingKeys(endpointId: string, cursor: string | undefined): Promise<OrderingKeyPage>;
  skipKey(endpointId: string, orderingKey: string): Promise<OrderingKeySkipped>;
}

/** The name that selects the operational webhooks instead of a tenant. */
export const opsTarget = "ops";

export function scopeOf(api: PlatformApi, target: string): Scope {
  return target === opsTarget ? operationalScope(api) : tenantScope(api, target);
}

function tenantScope(api: PlatformApi, tenantId: string): Scope {
  const ep = (endpointId: string) => ({ tenantId, endpointId });
  const ev = (eventId: string) => ({ tenantId, eventId });
  return {
    listEndpoints: async () => (await api.getAdminTenantsByTenantIdEndpoints({ path: { tenantId } })).data,
    addEndpoint: async (body) => (await api.postAdminTenantsByTenantIdEndpoints({ path: { tenantId }, body })).data,
    getEndpoint: async (id) => (await api.getAdminTenantsByTenantIdEndpointsByEndpointId({ path: ep(id) })).data,
    changeEndpoint: async (id, body) =>
      (await api.patchAdminTenantsByTenantIdEndpointsByEndpointId({ path: ep(id), body })).data,
    deleteEndpoint: (id) => api.deleteAdminTenantsByTenantIdEndpointsByEndpointId({ path: ep(id) }),
    rotateSecret: async (id, body) =>
      (await api.postAdminTenantsByTenantIdEndpointsByEndpointIdRotateSecret({ path: ep(id), body })).data,
    endpointStats: async (id) => (await api.getAdminTenantsByTenantIdEndpointsByEndpointIdStats({ path: ep(id) })).data,
    testEndpoint: async (id) => (await api.postAdminTenantsByTenantIdEndpointsByEndpointIdTest({ path: ep(id) })).data,
    recover: async (id, body) =>
      (await api.postAdminTenantsByTenantIdEndpointsByEndpointIdRecover({ path: ep(id), body })).data,
    listEvents: async (query) => (await api.getAdminTenantsByTenantIdEvents({ path: { tenantId }, query })).data,
    getEvent: async (id) => (await api.getAdminTenantsByTenantIdEventsByEventId({ path: ev(id) })).data,
    retryEvent: async (id) => (await api.postAdminTenantsByTenantIdEventsByEventIdRetry({ path: ev(id) })).data,
    erasePayload: async (id) => (await api.deleteAdminTenantsByTenantIdEventsByEventIdPayload({ path: ev(id) })).data,
    orderingKeys: async (id, cursor) =>
      (await api.getAdminTenantsByTenantIdEndpointsByEndpointIdOrderingKeys({ path: ep(id), query: { cursor } })).data,
    skipKey: async (id, orderingKey) =>
      (
        await api.postAdminTenantsByTenantIdEndpointsByEndpointIdOrderingKeysByOrderingKeySkip({
          path: { ...ep(id), orderingKey },
        })
      ).data,
    listAttempts: async (eventId, endpointId, cursor) =>
      (
        await api.getAdminTenantsByTenantIdEventsByEventIdDeliveriesByEndpointIdAttempts({
          path: { tenantId, eventId, endpointId },
          query: { cursor },
        })
      ).data,
  };
}

function operationalScope(api: PlatformApi): Scope {
  const ep = (endpointId: string) => ({ endpointId });
  return {
    listEndpoints: async () => (await api.getAdminOperationalEndpoints()).data,
    addEndpoint: async (body) => (await api.postAdminOperationalEndpoints({ body })).data,
    getEndpoint: async (id) => (await api.getAdminOperationalEndpointsByEndpointId({ path: ep(id) })).data,
    changeEndpoint: async (id, body) =>
      (await api.patchAdminOperationalEndpointsByEndpointId({ path: ep(id), body })).data,
    deleteEndpoint: (id) => api.deleteAdminOperationalEndpointsByEndpointId({ path: ep(id) }),
    rotateSecret: async (id, body) =>
      (await api.postAdminOperationalEndpointsByEndpointIdRotateSecret({ path: ep(id), body })).data,
    endpointStats: async (id) => (await api.getAdminOperationalEndpointsByEndpointIdStats({ path: ep(id) })).data,
    testEndpoint: async (id) => (await api.postAdminOperationalEndpointsByEndpointIdTest({ path: ep(id) })).data,
    recover: async (id, body) =>
      (await api.postAdminOperationalEndpointsByEndpointIdRecover({ path: ep(id), body })).data,
    listEvents: async (query) => (await api.getAdminOperationalEvents({ query })).data,
    getEvent: async (id) => (await api.getAdminOperationalEventsByEventId({ path: { eventId: id } })).data,
    retryEvent: async (id) => (await api.postAdminOperationalEventsByEventIdRetry({ path: { eventId: id } })).data,
    erasePayload: async (id) =>
      (await api.deleteAdminOperationalEventsByEventIdPayload({ path: { eventId: id } })).data,
    orderingKeys: async (id, cursor) =>
      (await api.getAdminOperationalEndpointsByEndpointIdOrderingKeys({ path: ep(id), query: { cursor } })).data,
    skipKey: async (id, orderingKey) =>
      (
        await api.postAdminOperationalEndpointsByEndpointIdOrderingKeysByOrderingKeySkip({
          path: { ...ep(id), orderingKey },
        })
      ).data,
    listAttempts: async (eventId, endpointId, cursor) =>
      (
        await api.getAdminOperationalEventsByEventIdDeliveriesByEndpointIdAttempts({
          path: { eventId, endpointId },
          query: { cursor },
        })
      ).data,
  };
}
