/**
 * The admin CLI's commands, each one or a few calls of the typed client: what it prints in full (`out`, for --json)
 * and as a table (`rows`).
 */
import { paginate, type Page, type PlatformApi } from "../../clients/typescript/src/index.ts";
import { eventStatuses } from "../core/delivery-state.ts";
import { endpointTypes } from "../core/destination.ts";
import { opsTarget, scopeOf } from "./scopes.ts";

export const usage = `usage: npm run admin -- <command> [options] [--json]

  tenant create <name> [--endpoint <url>]... [--event-type <type>]...
  tenant list [--limit n]
  tenant get <tenant_id>
  tenant rename <tenant_id> <name>
  tenant disable|enable|delete <tenant_id>
  tenant erase <tenant_id> --confirm <tenant_id>      (everything of the tenant, for good)
  key issue|list <tenant_id>
  key revoke <tenant_id> <key_id>
  portal open <tenant_id> [--writable] [--expires-in 15m]

  Endpoints and events of a tenant, or with "${opsTarget}" of the operational webhooks:
  endpoint add <tenant_id|${opsTarget}> <url> [--event-type <type>]...
  endpoint add <tenant_id> <target> --type aws_sqs|aws_sns|aws_eventbridge|aws_kinesis --role-arn <arn>
  endpoint list <tenant_id|${opsTarget}>
  endpoint get|stats|test|enable|disable|delete <tenant_id|${opsTarget}> <endpoint_id>
  endpoint update <tenant_id|${opsTarget}> <endpoint_id> [--url <url> | --target <target>] [--role-arn <arn>]
                  [--event-type <type>]...
  endpoint rotate <tenant_id|${opsTarget}> <endpoint_id> [--grace 24h]
  endpoint recover <tenant_id|${opsTarget}> <endpoint_id> --since <time> [--until <time>] [--dry-run]
  endpoint keys <tenant_id|${opsTarget}> <endpoint_id> [--limit n]      (ordering keys with events waiting)
  endpoint skip-key <tenant_id|${opsTarget}> <endpoint_id> <ordering_key>
  event list <tenant_id|${opsTarget}> [--status <status>] [--limit n]
  event get|retry <tenant_id|${opsTarget}> <event_id>
  event attempts <tenant_id|${opsTarget}> <event_id> <endpoint_id> [--limit n]
  event erase-payload <tenant_id|${opsTarget}> <event_id>

  dlq list [--tenant <tenant_id>] [--limit n]
  dlq requeue --max <n> [--tenant <id>] [--endpoint <id>] [--event <id>]... [--dry-run]
  audit list [--tenant <tenant_id>] [--limit n]
  stats
  stats history [--window hour|day]
  secrets seal`;

export interface Options {
  readonly endpoint?: string[] | undefined;
  readonly url?: string | undefined;
  readonly type?: string | undefined;
  readonly target?: string | undefined;
  readonly "role-arn"?: string | undefined;
  readonly "event-type"?: string[] | undefined;
  readonly event?: string[] | undefined;
  readonly tenant?: string | undefined;
  readonly limit?: string | undefined;
  readonly max?: string | undefined;
  readonly "dry-run"?: boolean | undefined;
  readonly writable?: boolean | undefined;
  readonly "expires-in"?: string | undefined;
  readonly grace?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly status?: string | undefined;
  readonly window?: string | undefined;
  readonly confirm?: string | undefined;
}

type Row = Record<string, unknown>;
export interface Output {
  readonly out: unknown;
  readonly rows?: readonly Row[];
}
type Command = (api: PlatformApi, args: readonly string[], o: Options) => Promise<Output>;

/** A positional argument the command cannot do without. */
function arg(args: readonly string[], i: number, name: string): string {
  const value = args[i];
  if (value === undefined) throw new Error(`missing <${name}>\n${usage}`);
  return value;
}

function count(value: string | undefined, fallback: number): number {
  const n = Number(value ?? fallback);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`not a positive whole number: ${value ?? ""}`);
  return n;
}

function oneOf<T extends string>(values: readonly T[], value: string, name: string): T {
  const found = values.find((v) => v === value);
  if (found === undefined) throw new Error(`${name} is one of ${values.join(", ")}`);
  return found;
}

/** The first `max` items of every page, fetched as needed. */
async function take<Item>(
  max: number,
  page: (cursor: string | undefined) => Promise<{ data: Page<Item> }>,
): Promise<Item[]> {
  const items: Item[] = [];
  for await (const item of paginate(page)) {
    items.push(item);
    if (items.length >= max) break;
  }
  return items;
}

const one = (value: object): Output => ({ out: value, rows: [value as Row] });
const many = (values: readonly object[]): Output => ({ out: values, rows: values as Row[] });
const done = (out: object): Output => ({ out });

function tenantStatus(status: "active" | "disabled"): Command {
  return async (api, args) => {
    const tenantId = arg(args, 0, "tenant_id");
    return one((await api.patchAdminTenantsByTenantId({ path: { tenantId }, body: { status } })).data);
  };
}

function endpointEnabled(enabled: boolean): Command {
  return async (api, args) =>
    one(await scopeOf(api, arg(args, 0, "tenant_id")).changeEndpoint(arg(args, 1, "endpoint_id"), { enabled }));
}

/** An endpoint command that takes the target and the endpoint id and prints what the call answers. */
function onEndpoint(call: (scope: ReturnType<typeof scopeOf>, endpointId: string) => Promise<object>): Command {
  return async (api, args) => one(await call(scopeOf(api, arg(args, 0, "tenant_id")), arg(args, 1, "endpoint_id")));
}

export const commands: Readonly<Record<string, Command>> = {
  "tenant create": async (api, args, o) => {
    const { data } = await api.postAdminTenants({
      body: {
        name: arg(args, 0, "name"),
        endpoints: (o.endpoint ?? []).map((url) => ({ url, event_types: o["event-type"] })),
      },
    });
    // The key and the secrets are shown this once: put them in the table.
    return { out: data, rows: [data, ...data.endpoints] };
  },
  "tenant list": async (api, _args, o) =>
    many(await take(count(o.limit, 100), async (cursor) => api.getAdminTenants({ query: { cursor } }))),
  "tenant get": async (api, args) =>
    one((await api.getAdminTenantsByTenantId({ path: { tenantId: arg(args, 0, "tenant_id") } })).data),
  "tenant rename": async (api, args) => {
    const tenantId = arg(args, 0, "tenant_id");
    return one(
      (await api.patchAdminTenantsByTenantId({ path: { tenantId }, body: { name: arg(args, 1, "name") } })).data,
    );
  },
  "tenant disable": tenantStatus("disabled"),
  "tenant enable": tenantStatus("active"),
  "tenant delete": async (api, args) => {
    const tenantId = arg(args, 0, "tenant_id");
    await api.deleteAdminTenantsByTenantId({ path: { tenantId } });
    return done({ deleted: tenantId });
  },

  "key issue": async (api, args) =>
    one((await api.postAdminTenantsByTenantIdApiKeys({ path: { tenantId: arg(args, 0, "tenant_id") } })).data),
  "key list": async (api, args) =>
    many((await api.getAdminTenantsByTenantIdApiKeys({ path: { tenantId: arg(args, 0, "tenant_id") } })).data.data),
  "key revoke": async (api, args) => {
    const keyId = arg(args, 1, "key_id");
    await api.deleteAdminTenantsByTenantIdApiKeysByKeyId({ path: { tenantId: arg(args, 0, "tenant_id"), keyId } });
    return done({ revoked: keyId });
  },
  "portal open": async (api, args, o) => {
    const { data } = await api.postAdminTenantsByTenantIdPortalSessions({
      path: { tenantId: arg(args, 0, "tenant_id") },
      // Read-only unless asked (the API's default): a link handed on is no stronger than needed.
      body: { read_only: o.writable ? false : undefined, expires_in: o["expires-in"] },
    });
    return one(data);
  },

  "endpoint add": async (api, args, o) => {
    const type = oneOf(endpointTypes, o.type ?? "http", "--type");
    // An AWS destination's second argument is its target (queue URL, topic, bus or stream ARN), and it names a role.
    const where =
      type === "http"
        ? { url: arg(args, 1, "url") }
        : { type, target: arg(args, 1, "target"), role_arn: o["role-arn"] };
    return one(await scopeOf(api, arg(args, 0, "tenant_id")).addEndpoint({ ...where, event_types: o["event-type"] }));
  },
  "endpoint list": async (api, args) => many((await scopeOf(api, arg(args, 0, "tenant_id")).listEndpoints()).data),
  "endpoint get": onEndpoint((scope, id) => scope.getEndpoint(id)),
  "endpoint test": onEndpoint((scope, id) => scope.testEndpoint(id)),
  "endpoint enable": endpointEnabled(true),
  "endpoint disable": endpointEnabled(false),
  "endpoint delete": async (api, args) => {
    const endpointId = arg(args, 1, "endpoint_id");
    await scopeOf(api, arg(args, 0, "tenant_id")).deleteEndpoint(endpointId);
    return done({ deleted: endpointId });
  },
  "endpoint update": async (api, args, o) =>
    one(
      await scopeOf(api, arg(args, 0, "tenant_id")).changeEndpoint(arg(args, 1, "endpoint_id"), {
        url: o.url,
        target: o.target,
        role_arn: o["role-arn"],
        event_types: o["event-type"],
      }),
    ),
  "endpoint rotate": async (api, args, o) =>
    one(
      await scopeOf(api, arg(args, 0, "tenant_id")).rotateSecret(arg(args, 1, "endpoint_id"), {
        grace_period: o.grace,
      }),
    ),
  "endpoint stats": async (api, args) => {
    const stats = await scopeOf(api, arg(args, 0, "tenant_id")).endpointStats(arg(args, 1, "endpoint_id"));
    return {
      out: stats,
      rows: [
        { window: "last hour", ...stats.last_hour },
        { window: "last day", ...stats.last_day },
      ],
    };
  },
  "endpoint recover": async (api, args, o) => {
    // The API takes a bounded slice a call; the CLI goes on until the range is done.
    const scope = scopeOf(api, arg(args, 0, "tenant_id"));
    const endpointId = arg(args, 1, "endpoint_id");
    if (o.since === undefined) throw new Error(`missing --since\n${usage}`);
    const total = {
      endpoint_id: endpointId,
      dry_run: o["dry-run"] ?? false,
      examined: 0,
      requeued: 0,
      would_requeue: 0,
    };
    let cursor: string | undefined;
    do {
      const r = await scope.recover(endpointId, { since: o.since, until: o.until, dry_run: o["dry-run"], cursor });
      total.examined += r.examined;
      total.requeued += r.requeued ?? 0;
      total.would_requeue += r.would_requeue ?? 0;
      cursor = r.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return one(total);
  },

  "event list": async (api, args, o) => {
    const scope = scopeOf(api, arg(args, 0, "tenant_id"));
    const status = o.status === undefined ? undefined : oneOf(eventStatuses, o.status, "--status");
    const max = count(o.limit, 20);
    const page = async (cursor: string | undefined) => ({
      data: await scope.listEvents({ status, cursor, limit: Math.min(max, 100) }),
    });
    return many(await take(max, page));
  },
  "event get": async (api, args) => {
    const event = await scopeOf(api, arg(args, 0, "tenant_id")).getEvent(arg(args, 1, "event_id"));
    return { out: event, rows: event.deliveries };
  },
  "event attempts": async (api, args, o) => {
    const scope = scopeOf(api, arg(args, 0, "tenant_id"));
    const [eventId, endpointId] = [arg(args, 1, "event_id"), arg(args, 2, "endpoint_id")];
    const page = async (cursor: string | undefined) => ({
      data: await scope.listAttempts(eventId, endpointId, cursor),
    });
    return many(await take(count(o.limit, 100), page));
  },
  "event retry": async (api, args) =>
    one(await scopeOf(api, arg(args, 0, "tenant_id")).retryEvent(arg(args, 1, "event_id"))),
  "event erase-payload": async (api, args) =>
    one(await scopeOf(api, arg(args, 0, "tenant_id")).erasePayload(arg(args, 1, "event_id"))),
  "endpoint keys": async (api, args, o) => {
    const scope = scopeOf(api, arg(args, 0, "tenant_id"));
    const endpointId = arg(args, 1, "endpoint_id");
    return many(
      await take(count(o.limit, 100), async (cursor) => ({ data: await scope.orderingKeys(endpointId, cursor) })),
    );
  },
  "endpoint skip-key": async (api, args) =>
    one(
      await scopeOf(api, arg(args, 0, "tenant_id")).skipKey(arg(args, 1, "endpoint_id"), arg(args, 2, "ordering_key")),
    ),
  "tenant erase": async (api, args, o) => {
    // The API erases a bounded step a call (202 with its progress while there is more); the CLI goes on to the
    // report, and gives up when the progress has not moved for 1,000 answers in a row (the same command resumes it).
    const tenantId = arg(args, 0, "tenant_id");
    if (o.confirm === undefined) throw new Error(`missing --confirm <tenant_id>: erasure cannot be undone\n${usage}`);
    let last = "";
    for (let still = 0; still < 1000;) {
      const { data, response } = await api.postAdminTenantsByTenantIdErase({
        path: { tenantId },
        body: { confirm: o.confirm },
      });
      if (response.status === 200) return one(data);
      const progress = JSON.stringify(data);
      still = progress === last ? still + 1 : 0;
      last = progress;
    }
    throw new Error(
      `erasing ${tenantId} made no visible progress in 1,000 steps: ${last} (run the command again to go on)`,
    );
  },
  "audit list": async (api, _args, o) => {
    const max = count(o.limit, 50);
    const page = async (cursor: string | undefined) =>
      api.getAdminAudit({ query: { tenant_id: o.tenant, cursor, limit: Math.min(max, 100) } });
    return many(await take(max, page));
  },

  "dlq list": async (api, _args, o) => {
    const { data } = await api.getAdminDlq({ query: { tenant_id: o.tenant, limit: count(o.limit, 20) } });
    return { out: data, rows: data.data.map((m) => ({ ...m, ...m.delivery, delivery: undefined })) };
  },
  "dlq requeue": async (api, _args, o) => {
    const { data } = await api.postAdminDlqRequeue({
      body: {
        tenant_id: o.tenant,
        endpoint_id: o.endpoint?.[0],
        event_ids: o.event,
        max_messages: count(o.max, 100),
        dry_run: o["dry-run"],
      },
    });
    return one(data);
  },
  "secrets seal": async (api) => {
    // The API seals a page of tenants a call; the CLI goes on until every tenant is done.
    const total = { examined: 0, sealed: 0 };
    let cursor: string | undefined;
    do {
      const { data } = await api.postAdminSealSecrets({ body: { cursor } });
      total.examined += data.examined;
      total.sealed += data.sealed;
      cursor = data.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return one(total);
  },
  stats: async (api) => {
    const { data } = await api.getAdminStats();
    return { out: data, rows: Object.entries(data).map(([queue, depth]) => ({ queue, ...depth })) };
  },
  "stats history": async (api, _args, o) => {
    const window = oneOf(["hour", "day"] as const, o.window ?? "hour", "--window");
    const { data } = await api.getAdminStatsHistory({ query: { window } });
    return { out: data, rows: data.points };
  },
};
