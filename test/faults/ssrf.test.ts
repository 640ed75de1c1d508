/**
 * SSRF end to end with ALLOW_PRIVATE_TARGETS=false: the API refuses loopback endpoint URLs, and endpoints
 * that slipped in anyway (stored directly) never reach a loopback server that is listening for them.
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeTenant } from "../../services/aws/tenants.ts";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { expectProblem } from "../support/problem.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
const listeners: Server[] = [];
let connections = 0;
let port = 0;

async function listen(host: string): Promise<boolean> {
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (ok) {
    port = (server.address() as { port: number }).port;
    listeners.push(server);
  }
  return ok;
}

beforeAll(async () => {
  await listen("127.0.0.1");
  await listen("::1");
  // The listeners' port is an allowed one, so only the address guard stands between the worker and them.
  stack = await startStack({
    ALLOW_PRIVATE_TARGETS: "false",
    RETRY_SCHEDULE: "100ms",
    ALLOWED_TARGET_PORTS: String(port),
  });
  stack.startWorker();
});
afterAll(async () => {
  for (const l of listeners) l.close();
  await stack.close();
});

const loopbackHosts = () => [
  "127.0.0.1",
  "localhost",
  "[::1]",
  "0x7f000001",
  "2130706433",
  "017700000001",
  "127.1",
  "[::ffff:127.0.0.1]",
  "[::ffff:7f00:1]",
];

describe("SSRF defences", () => {
  it("the API refuses endpoint URLs at loopback addresses in any spelling, and credentials in URLs", async () => {
    const admin = `Bearer ${stack.adminToken}`;
    for (const host of loopbackHosts().filter((h) => h !== "localhost")) {
      const res = await stack.http
        .post("/admin/tenants")
        .set("authorization", admin)
        .send({ name: "x", endpoints: [{ url: `https://${host}:${port}/` }] });
      expect(expectProblem(res, 422).errors, host).toEqual([
        { path: "endpoints.0.url", message: expect.stringMatching(/loopback/) },
      ]);
    }
    const http = await stack.http
      .post("/admin/tenants")
      .set("authorization", admin)
      .send({ name: "x", endpoints: [{ url: "http://example.com/" }] });
    expectProblem(http, 422);
    const creds = await stack.http
      .post("/admin/tenants")
      .set("authorization", admin)
      .send({ name: "x", endpoints: [{ url: "https://user:pw@example.com/" }] });
    expectProblem(creds, 422);
  });

  it("the worker never connects to loopback, whatever the spelling, even for stored endpoints", async () => {
    const t = await stack.createTenant([]);
    const urls = loopbackHosts().map((h) => `https://${h}:${port}/hook`);
    // Stored behind the API's back, as a URL whose name later resolves to loopback would be.
    await changeTenant(stack.stores.tenants, t.tenantId, (tenant) => ({
      ...tenant,
      endpoints: Object.fromEntries(
        urls.map((url, i) => [
          `ep_${String(i).padStart(26, "0")}`,
          { url, eventTypes: [], secrets: [{ secret: "whsec_eA==", createdAt: 0 }], enabled: true, createdAt: 0 },
        ]),
      ),
    }));
    const { body } = await postEvent(stack, t.apiKey, { type: "ssrf" });
    const event = await eventually(
      async () => {
        const e = await getEvent(stack, t.apiKey, body.event_id);
        return e.status === "DEAD" ? e : undefined;
      },
      { what: "every delivery refused", timeoutMs: 20_000 },
    );
    expect(event.deliveries).toHaveLength(urls.length);
    for (const d of event.deliveries) {
      expect(d.attempts).toBe(2);
      expect(d.last_error).toBe("refused: the address is not public");
      expect(
        d.attempt_log.every((a) => a.status_code === null && a.error === "refused: the address is not public"),
      ).toBe(true);
    }
    expect(connections).toBe(0);
  });
});
