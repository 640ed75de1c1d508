/** The admin CLI against a real API process: what an operator's shell session would do. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postEvent } from "../support/api.ts";
import { emulatorDestinations } from "../support/destinations.ts";
import { eventually } from "../support/eventually.ts";
import { startApiProcess, type ServiceProcess } from "../support/processes.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let api: ServiceProcess;
const cli = fileURLToPath(new URL("../../services/cli/main.ts", import.meta.url));

beforeAll(async () => {
  stack = await startStack(emulatorDestinations(inject("sqsEndpoint")));
  api = await startApiProcess(stack.env);
});
afterAll(async () => {
  await api.kill("SIGTERM");
  await stack.close();
});

async function admin(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", cli, ...args],
    {
      env: { ...process.env, API_URL: `http://127.0.0.1:${api.port}`, ADMIN_TOKEN: stack.adminToken },
    },
  );
  return stdout;
}

describe("npm run admin", () => {
  it("creates a tenant, issues and revokes a key, adds an endpoint, lists, and reads the DLQ", async () => {
    const created = JSON.parse(
      await admin("tenant", "create", "CLI Co", "--endpoint", "http://127.0.0.1:9/cli", "--json"),
    );
    expect(created).toMatchObject({
      tenant_id: expect.stringMatching(/^ten_/),
      api_key: expect.stringMatching(/^whk_/),
    });
    const table = await admin("tenant", "list");
    expect(table).toContain(created.tenant_id);
    expect(table).toContain("CLI Co");

    const key = JSON.parse(await admin("key", "issue", created.tenant_id, "--json"));
    expect(await admin("key", "list", created.tenant_id)).toContain(key.key_id);
    expect(JSON.parse(await admin("key", "revoke", created.tenant_id, key.key_id, "--json"))).toEqual({
      revoked: key.key_id,
    });

    const endpoint = JSON.parse(
      await admin(
        "endpoint",
        "add",
        created.tenant_id,
        "http://127.0.0.1:9/second",
        "--event-type",
        "order.*",
        "--json",
      ),
    );
    expect(endpoint).toMatchObject({ event_types: ["order.*"], secret: expect.stringMatching(/^whsec_/) });

    expect(JSON.parse(await admin("dlq", "list", "--json"))).toEqual({ count: 0, data: [] });
    expect(JSON.parse(await admin("dlq", "requeue", "--max", "10", "--dry-run", "--json"))).toMatchObject({
      moved: 0,
      dry_run: true,
    });
    expect(await admin("stats")).toContain("dead_letter_queue");
    await expect(admin("tenant", "frobnicate")).rejects.toThrow(/unknown command/);
  }, 60_000);

  it("covers the routes added since: tenants in full, endpoint actions, events, recover, portal, ops, history, sealing", async () => {
    const { tenant_id: tenant } = JSON.parse(await admin("tenant", "create", "Later Co", "--json"));
    expect(JSON.parse(await admin("tenant", "rename", tenant, "Later Ltd", "--json"))).toMatchObject({
      name: "Later Ltd",
    });
    expect(JSON.parse(await admin("tenant", "get", tenant, "--json"))).toMatchObject({ name: "Later Ltd" });

    const portal = JSON.parse(await admin("portal", "open", tenant, "--expires-in", "15m", "--json"));
    expect(portal).toMatchObject({ url: expect.stringContaining("/portal/#token=wps_"), read_only: true });
    expect(JSON.parse(await admin("portal", "open", tenant, "--writable", "--json"))).toMatchObject({
      read_only: false,
    });

    const ep = JSON.parse(await admin("endpoint", "add", tenant, "http://127.0.0.1:9/later", "--json"));
    expect(JSON.parse(await admin("endpoint", "disable", tenant, ep.endpoint_id, "--json"))).toMatchObject({
      enabled: false,
    });
    expect(JSON.parse(await admin("endpoint", "enable", tenant, ep.endpoint_id, "--json"))).toMatchObject({
      enabled: true,
    });
    expect(
      JSON.parse(await admin("endpoint", "update", tenant, ep.endpoint_id, "--event-type", "order.*", "--json")),
    ).toMatchObject({ event_types: ["order.*"] });
    const rotated = JSON.parse(await admin("endpoint", "rotate", tenant, ep.endpoint_id, "--grace", "1h", "--json"));
    expect(rotated.secret).not.toBe(ep.secret);
    const sent = JSON.parse(await admin("endpoint", "test", tenant, ep.endpoint_id, "--json"));
    expect(await admin("event", "list", tenant)).toContain(sent.event_id);
    expect(JSON.parse(await admin("event", "get", tenant, sent.event_id, "--json"))).toMatchObject({
      event_id: sent.event_id,
      type: "webhook.test",
    });
    expect(JSON.parse(await admin("event", "attempts", tenant, sent.event_id, ep.endpoint_id, "--json"))).toEqual([]);
    expect(JSON.parse(await admin("event", "retry", tenant, sent.event_id, "--json"))).toEqual({
      event_id: sent.event_id,
      requeued: [],
      already_queued: [ep.endpoint_id],
    });
    expect(await admin("endpoint", "stats", tenant, ep.endpoint_id)).toContain("last hour");
    const since = new Date(Date.now() - 3_600_000).toISOString();
    expect(
      JSON.parse(await admin("endpoint", "recover", tenant, ep.endpoint_id, "--since", since, "--dry-run", "--json")),
    ).toEqual({ endpoint_id: ep.endpoint_id, dry_run: true, examined: 0, requeued: 0, would_requeue: 0 });
    expect(JSON.parse(await admin("endpoint", "delete", tenant, ep.endpoint_id, "--json"))).toEqual({
      deleted: ep.endpoint_id,
    });
    await expect(admin("endpoint", "add", tenant, "not a url")).rejects.toThrow(/422 .*url: /);

    // The operational webhooks: the same endpoint and event commands with "ops" for the tenant.
    const ops = JSON.parse(
      await admin("endpoint", "add", "ops", "http://127.0.0.1:9/ops", "--event-type", "endpoint.*", "--json"),
    );
    expect(await admin("endpoint", "list", "ops")).toContain(ops.endpoint_id);
    const opsTest = JSON.parse(await admin("endpoint", "test", "ops", ops.endpoint_id, "--json"));
    expect(JSON.parse(await admin("event", "list", "ops", "--status", "PENDING", "--json"))).toEqual([
      expect.objectContaining({ event_id: opsTest.event_id }),
    ]);
    await expect(admin("event", "list", "ops", "--status", "LOST")).rejects.toThrow(/--status is one of/);

    const history = JSON.parse(await admin("stats", "history", "--window", "day", "--json"));
    expect(history).toMatchObject({ window: "day", step_seconds: 600 });
    // Every tenant here was written sealed: the job goes through them all and seals none.
    expect(JSON.parse(await admin("secrets", "seal", "--json"))).toEqual({ examined: expect.any(Number), sealed: 0 });
  }, 120_000); // some twenty processes, each loading the CLI, on a busy machine

  it("adds an AWS destination and moves its target and role, its external id kept", async () => {
    const tenant = JSON.parse(await admin("tenant", "create", "CLI AWS", "--json"));
    const queue = (name: string) => `http://127.0.0.1:9324/000000000000/${name}`;
    const added = JSON.parse(
      await admin(
        "endpoint",
        "add",
        tenant.tenant_id,
        queue("cli-orders"),
        "--type",
        "aws_sqs",
        "--role-arn",
        "arn:aws:iam::111111111111:role/webhooks-cli",
        "--json",
      ),
    );
    expect(added).toMatchObject({
      type: "aws_sqs",
      target: queue("cli-orders"),
      external_id: expect.stringMatching(/^whx_/),
      trust_policy: expect.any(Object),
    });
    const moved = JSON.parse(
      await admin(
        "endpoint",
        "update",
        tenant.tenant_id,
        added.endpoint_id,
        "--target",
        queue("cli-next"),
        "--role-arn",
        "arn:aws:iam::111111111111:role/webhooks-cli-2",
        "--json",
      ),
    );
    expect(moved).toMatchObject({
      target: queue("cli-next"),
      role_arn: "arn:aws:iam::111111111111:role/webhooks-cli-2",
      external_id: added.external_id,
    });
    await expect(admin("endpoint", "add", tenant.tenant_id, queue("x"), "--type", "aws_s3")).rejects.toThrow(
      /--type is one of http, aws_sqs/,
    );
  });

  it("erases a payload, lists and skips ordering keys, reads the audit log, and erases a tenant to its report", async () => {
    const t = JSON.parse(
      await admin("tenant", "create", "CLI Erase", "--endpoint", "http://127.0.0.1:9/erase", "--json"),
    );
    const endpointId = t.endpoints[0].endpoint_id as string;
    const eventId = (await postEvent(stack, t.api_key, { type: "order.erase", note: "private" })).body.event_id;
    expect(JSON.parse(await admin("event", "erase-payload", t.tenant_id, eventId, "--json"))).toMatchObject({
      event_id: eventId,
      payload_erased_at: expect.any(String),
    });
    expect(JSON.parse(await admin("endpoint", "keys", t.tenant_id, endpointId, "--json"))).toEqual([]);
    await expect(admin("endpoint", "skip-key", t.tenant_id, endpointId, "order-1")).rejects.toThrow(/404/);
    // The audit log names the erasure (entries are appended once the answer is sent).
    await eventually(
      async () =>
        (JSON.parse(await admin("audit", "list", "--tenant", t.tenant_id, "--json")) as { action: string }[]).some(
          (e) => e.action === "DELETE /admin/tenants/{tenant_id}/events/{event_id}/payload",
        ),
      { what: "the payload erasure in the audit log" },
    );
    await expect(admin("tenant", "erase", t.tenant_id)).rejects.toThrow(/--confirm/);
    const report = JSON.parse(await admin("tenant", "erase", t.tenant_id, "--confirm", t.tenant_id, "--json"));
    expect(report).toMatchObject({ tenant_id: t.tenant_id, status: "done" });
    await expect(admin("tenant", "get", t.tenant_id)).rejects.toThrow(/404/);
  });
});
