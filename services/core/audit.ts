/**
 * The audit log's entry: who (the operator, an API key, a portal session) changed what (a method and route, the ids it
 * named or created), when and from which address. Only ids and names of routes: never a secret, a key, a token or a
 * payload.
 */
import { z } from "zod";

export const auditActorSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("admin") }),
  z.object({ kind: z.literal("api_key"), keyId: z.string() }),
  z.object({ kind: z.literal("portal_session") }),
]);
export type AuditActor = z.infer<typeof auditActorSchema>;

/** The ids an entry may name: what a route's path or answer carries, each checked to be an id and nothing else. */
export const auditTargetKeys = ["tenant_id", "endpoint_id", "event_id", "key_id", "event_type"] as const;

/** Erasing a tenant: its entries go to the operators' log only, which keeps them (the record the erasure was asked for). */
export const eraseAction = "POST /admin/tenants/{tenant_id}/erase";

export const auditEntrySchema = z.object({
  auditId: z.string(),
  at: z.number(),
  actor: auditActorSchema,
  /** The method and the route's template, e.g. `POST /v1/endpoints/{endpoint_id}/rotate-secret`. */
  action: z.string(),
  /** The tenant acted on; absent for the platform's own actions (the DLQ, sealing). */
  subjectTenantId: z.string().optional(),
  targets: z.partialRecord(z.enum(auditTargetKeys), z.string()),
  address: z.string(),
  statusCode: z.number(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

const idShapes: readonly [RegExp, (typeof auditTargetKeys)[number]][] = [
  [/^ten_[0-9A-Z]{26}$/, "tenant_id"],
  [/^ep_[0-9A-Z]{26}$/, "endpoint_id"],
  [/^evt_[0-9A-Z]{26}$/, "event_id"],
];

/**
 * A request path as an action and the ids in it: `/admin/tenants/ten_…/endpoints/ep_…` becomes
 * `/admin/tenants/{tenant_id}/endpoints/{endpoint_id}`. Other segments are kept as they are (route words, an event
 * type's name, a key id after `api-keys`); a query string never is.
 */
export function actionOf(
  method: string,
  path: string,
): { action: string; targets: Partial<Record<(typeof auditTargetKeys)[number], string>> } {
  const targets: Partial<Record<(typeof auditTargetKeys)[number], string>> = {};
  const segments = path.split("?")[0]!.split("/");
  const named = segments.map((s, i) => {
    const shape = idShapes.find(([re]) => re.test(s));
    const key = shape?.[1] ?? (segments[i - 1] === "api-keys" ? "key_id" : undefined);
    const typeName = segments[i - 1] === "event-types" && s !== "openapi.json" ? "event_type" : undefined;
    const k = key ?? typeName;
    if (!k) return s;
    targets[k] = decodeURIComponent(s);
    return `{${k}}`;
  });
  return { action: `${method} ${named.join("/")}`, targets };
}
