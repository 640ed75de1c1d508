/** An audit entry's action: the route with its ids named, never the query string. */
import { describe, expect, it } from "vitest";
import { actionOf } from "../../../services/core/audit.ts";

const ten = "ten_01JABCDEFGHJKMNPQRSTVWXYZ0";
const ep = "ep_01JABCDEFGHJKMNPQRSTVWXYZ0";

describe("actionOf", () => {
  it("names the ids in a path and keeps them apart", () => {
    expect(actionOf("POST", `/admin/tenants/${ten}/endpoints/${ep}/rotate-secret?x=whsec_no`)).toEqual({
      action: "POST /admin/tenants/{tenant_id}/endpoints/{endpoint_id}/rotate-secret",
      targets: { tenant_id: ten, endpoint_id: ep },
    });
    expect(actionOf("DELETE", `/admin/tenants/${ten}/api-keys/key_abc123`)).toEqual({
      action: "DELETE /admin/tenants/{tenant_id}/api-keys/{key_id}",
      targets: { tenant_id: ten, key_id: "key_abc123" },
    });
    expect(actionOf("PUT", "/v1/event-types/order.paid").targets).toEqual({ event_type: "order.paid" });
    expect(actionOf("PATCH", "/v1/endpoints/not-an-id").action).toBe("PATCH /v1/endpoints/not-an-id");
  });
});
