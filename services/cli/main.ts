/**
 * `npm run admin -- <command>`: the admin API from a shell. Tables for people, `--json` for scripts.
 * Reads API_URL (default http://127.0.0.1:3000) and ADMIN_TOKEN.
 */
import { parseArgs } from "node:util";
import { parseConfig } from "../config.ts";
import { runMain } from "../shutdown.ts";

const usage = `usage: npm run admin -- <command> [options] [--json]

  tenant create <name> [--endpoint <url>]... [--event-type <type>]...
  tenant list [--limit n]
  tenant disable|enable|delete <tenant_id>
  key issue <tenant_id>
  key list <tenant_id>
  key revoke <tenant_id> <key_id>
  endpoint add <tenant_id> <url> [--event-type <type>]...
  endpoint list <tenant_id>
  dlq list [--tenant <tenant_id>] [--limit n]
  dlq requeue --max <n> [--tenant <id>] [--endpoint <id>] [--event <id>]... [--dry-run]
  stats`;

type Json = Record<string, unknown>;

runMain(async () => {
  const { values: o, positionals: args } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      endpoint: { type: "string", multiple: true },
      "event-type": { type: "string", multiple: true },
      event: { type: "string", multiple: true },
      tenant: { type: "string" },
      limit: { type: "string" },
      max: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (o.help || args.length === 0) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const config = parseConfig(process.env, "cli");
  const call = async (method: string, path: string, body?: unknown): Promise<Json | undefined> => {
    const res = await fetch(new URL(path, config.API_URL), {
      method,
      headers: {
        authorization: `Bearer ${config.ADMIN_TOKEN}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${res.status} ${text}`);
    return text ? (JSON.parse(text) as Json) : undefined;
  };
  const eventTypes = o["event-type"];
  const [noun, verb, a, b] = args;
  const route = `${noun} ${verb ?? ""}`.trim();
  let out: Json | undefined;
  let rows: Json[] | undefined;
  switch (route) {
    case "tenant create":
      out = await call("POST", "/admin/tenants", {
        name: a,
        endpoints: (o.endpoint ?? []).map((url) => ({ url, event_types: eventTypes })),
      });
      // The key and the secrets are shown this once: put them in the table.
      rows = [out!, ...(out!.endpoints as Json[])];
      break;
    case "tenant list":
      out = await call("GET", `/admin/tenants?limit=${o.limit ?? 100}`);
      rows = out!.data as Json[];
      break;
    case "tenant disable":
    case "tenant enable":
      out = await call("PATCH", `/admin/tenants/${a}`, { status: verb === "disable" ? "disabled" : "active" });
      rows = [out!];
      break;
    case "tenant delete":
      await call("DELETE", `/admin/tenants/${a}`);
      out = { deleted: a };
      break;
    case "key issue":
      out = await call("POST", `/admin/tenants/${a}/api-keys`);
      rows = [out!];
      break;
    case "key list":
      out = await call("GET", `/admin/tenants/${a}/api-keys`);
      rows = out!.data as Json[];
      break;
    case "key revoke":
      await call("DELETE", `/admin/tenants/${a}/api-keys/${b}`);
      out = { revoked: b };
      break;
    case "endpoint add":
      out = await call("POST", `/admin/tenants/${a}/endpoints`, { url: b, event_types: eventTypes });
      rows = [out!];
      break;
    case "endpoint list":
      out = await call("GET", `/admin/tenants/${a}/endpoints`);
      rows = out!.data as Json[];
      break;
    case "dlq list": {
      const q = new URLSearchParams({ limit: o.limit ?? "20", ...(o.tenant ? { tenant_id: o.tenant } : {}) });
      out = await call("GET", `/admin/dlq?${q.toString()}`);
      rows = (out!.data as Json[]).map((m) => ({ ...m, ...(m.delivery as Json | null), delivery: undefined }));
      break;
    }
    case "dlq requeue":
      out = await call("POST", "/admin/dlq/requeue", {
        tenant_id: o.tenant,
        endpoint_id: o.endpoint?.[0],
        event_ids: o.event,
        max_messages: Number(o.max ?? 100),
        dry_run: o["dry-run"],
      });
      rows = [out!];
      break;
    case "stats":
      out = await call("GET", "/admin/stats");
      rows = Object.entries(out!).map(([queue, depth]) => ({ queue, ...(depth as Json) }));
      break;
    default:
      throw new Error(`unknown command '${route}'\n${usage}`);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else if (rows)
    console.table(
      rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => typeof v !== "object" || v === null))),
    );
  else process.stdout.write(`${JSON.stringify(out)}\n`);
});
