/** Operational events as pure data: their bodies, the reserved tenant's id, and the guard against loops. */
import { describe, expect, it } from "vitest";
import { isId } from "../../../services/core/ids.ts";
import {
  operationalEvent,
  operationalEventSchemas,
  type OperationalNotice,
} from "../../../services/core/operational-events.ts";
import { systemTenantId } from "../../../services/core/system-tenant.ts";

const now = Date.parse("2026-03-01T12:00:00Z");
const notices: OperationalNotice[] = [
  {
    type: "endpoint.disabled",
    data: { tenant_id: "ten_a", endpoint_id: "ep_a", reason: "the endpoint answered 410 Gone", last_status_code: 410 },
  },
  { type: "endpoint.enabled", data: { tenant_id: "ten_a", endpoint_id: "ep_a" } },
  {
    type: "delivery.exhausted",
    data: {
      tenant_id: "ten_a",
      endpoint_id: "ep_a",
      event_id: "evt_a",
      attempts: 6,
      last_status_code: null,
      last_error: "timeout",
    },
  },
  {
    type: "delivery.recovered",
    data: { tenant_id: "ten_a", endpoint_id: "ep_a", event_id: "evt_a", recovered_from: "SKIPPED" },
  },
];

describe("operational events", () => {
  it("are {type, occurred_at, count, first_occurred_at, data}, each valid by its own schema", () => {
    for (const notice of notices) {
      const event = operationalEvent(notice, now)!;
      expect(event).toEqual({
        ...notice,
        occurred_at: "2026-03-01T12:00:00.000Z",
        count: 1,
        first_occurred_at: "2026-03-01T12:00:00.000Z",
      });
      expect(operationalEventSchemas[notice.type].parse(event)).toEqual(event);
      const gathered = operationalEvent(notice, now, { count: 9, since: now - 60_000 })!;
      expect(gathered).toMatchObject({ count: 9, first_occurred_at: "2026-03-01T11:59:00.000Z" });
      expect(operationalEventSchemas[notice.type].parse(gathered)).toEqual(gathered);
    }
  });

  it("are never emitted about the system tenant's own endpoints or deliveries", () => {
    for (const notice of notices)
      expect(
        operationalEvent({ ...notice, data: { ...notice.data, tenant_id: systemTenantId } } as OperationalNotice, now),
      ).toBeUndefined();
  });

  it("belong to a reserved tenant whose id passes as a tenant id and no generated id can take", () => {
    expect(isId("ten", systemTenantId)).toBe(true);
    // A ULID starts with its time: ten zeros are 1970-01-01T00:00:00.000Z, which no clock minting ids reads.
    expect(systemTenantId.slice(4, 14)).toBe("0000000000");
  });
});
