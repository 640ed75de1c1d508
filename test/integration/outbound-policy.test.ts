/**
 * What endpoints may point at when the address guard is on (ALLOW_PRIVATE_TARGETS=false, as deployed): https on
 * 443 or an allowed port, checked when an endpoint is written and again at delivery; and what a tenant reads when
 * a target is refused (no name, no address), while our log keeps the detail. No request leaves loopback: endpoints
 * are only created with public names (creation looks nothing up), and every delivery goes to `localhost` (answered
 * by /etc/hosts) or 127.0.0.1, which the guard refuses before any connection, whatever else it checks first.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeTenant } from "../../services/aws/tenants.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { captureLogs } from "../support/log-capture.ts";
import { expectProblem } from "../support/problem.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
const { logger, lines } = captureLogs("info");

beforeAll(async () => {
  stack = await startStack(
    { ALLOW_PRIVATE_TARGETS: "false", RETRY_SCHEDULE: "100ms", ALLOWED_TARGET_PORTS: "443,8443" },
    { logger },
  );
  stack.startWorker();
});
afterAll(() => stack.close());

describe("endpoint URLs when the guard is on", () => {
  it("accepts https on 443 and the allowed ports, and refuses other ports and http when created or changed", async () => {
    const t = await stack.createTenant([]);
    const auth = `Bearer ${t.apiKey}`;
    for (const url of [
      "https://hooks.example.com/in",
      "https://hooks.example.com:443/in",
      "https://hooks.example.com:8443/in",
    ]) {
      expect((await stack.http.post("/v1/endpoints").set("authorization", auth).send({ url })).status, url).toBe(201);
    }
    for (const url of [
      "https://hooks.example.com:22/",
      "https://hooks.example.com:6379/",
      "http://hooks.example.com/",
    ]) {
      const problem = expectProblem(
        await stack.http.post("/v1/endpoints").set("authorization", auth).send({ url }),
        422,
      );
      expect(problem.errors, url).toEqual([
        { path: "url", message: expect.stringMatching(/^must use (port 443 or 8443|https)$/) },
      ]);
    }
    const created = await stack.http
      .post("/v1/endpoints")
      .set("authorization", auth)
      .send({ url: "https://hooks.example.com/in" });
    const patched = await stack.http
      .patch(`/v1/endpoints/${created.body.endpoint_id}`)
      .set("authorization", auth)
      .send({ url: "https://hooks.example.com:25/" });
    expectProblem(patched, 422);
    const admin = await stack.http
      .post("/admin/tenants")
      .set("authorization", `Bearer ${stack.adminToken}`)
      .send({ name: "x", endpoints: [{ url: "https://hooks.example.com:22/" }] });
    expectProblem(admin, 422);
  });
});

describe("delivery when the guard is on", () => {
  it("refuses stored endpoints on another scheme or port, or at a non-public address, and tells the tenant only that", async () => {
    const t = await stack.createTenant([]);
    const targets = {
      ep_00000000000000000000000001: "http://localhost/in",
      ep_00000000000000000000000002: "https://localhost:22/in",
      ep_00000000000000000000000003: "https://localhost/in",
      ep_00000000000000000000000004: "https://127.0.0.1/in",
    };
    // Stored behind the API's back, as an endpoint written before a policy change would be.
    await changeTenant(stack.stores.tenants, t.tenantId, (tenant) => ({
      ...tenant,
      endpoints: Object.fromEntries(
        Object.entries(targets).map(([id, url]) => [
          id,
          { url, eventTypes: [], secrets: [{ secret: "whsec_eA==", createdAt: 0 }], enabled: true, createdAt: 0 },
        ]),
      ),
    }));
    const { body } = await postEvent(stack, t.apiKey, { type: "policy" });
    const event = await eventually(
      async () => {
        const e = await getEvent(stack, t.apiKey, body.event_id);
        return e.status === "DEAD" ? e : undefined;
      },
      // Two attempts each, about 3 s; the bound is wide because on a loaded moto_server a lost acknowledgement or a
      // poller's pause after a connection error (10 s) is a correct path too. A timeout says where each delivery was.
      { what: "every delivery refused", timeoutMs: 45_000 },
    ).catch(async (err: unknown) => {
      const e = await getEvent(stack, t.apiKey, body.event_id);
      throw new Error(
        `${String(err)}: ${JSON.stringify(e.deliveries.map((d) => [d.endpoint_id, d.status, d.attempts]))}`,
      );
    });
    const errors = Object.fromEntries(
      event.deliveries.map((d) => [d.endpoint_id, [d.last_error, ...d.attempt_log.map((a) => a.error)]]),
    );
    expect(errors).toEqual({
      ep_00000000000000000000000001: Array(3).fill("refused: the URL must use https"),
      ep_00000000000000000000000002: Array(3).fill("refused: the URL must use port 443 or 8443"),
      ep_00000000000000000000000003: Array(3).fill("refused: the address is not public"),
      ep_00000000000000000000000004: Array(3).fill("refused: the address is not public"),
    });
    // What the tenant reads names neither the host nor the address; our log does.
    expect(JSON.stringify(event)).not.toMatch(/localhost|127\.0\.0\.1|loopback/);
    expect(lines.join("")).toContain("refused loopback address 127.0.0.1 for localhost");
  }, 60_000);
});
