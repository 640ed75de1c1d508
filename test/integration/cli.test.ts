/** The admin CLI against a real API process: what an operator's shell session would do. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiProcess, type ServiceProcess } from "../support/processes.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let api: ServiceProcess;
const cli = fileURLToPath(new URL("../../services/cli/main.ts", import.meta.url));

beforeAll(async () => {
  stack = await startStack();
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
  });
});
