/**
 * The audit trail: every request that changes something (any method but GET and HEAD, answered 2xx) is appended to
 * the audit log before its answer is sent, with who made it, the route and the ids it named or created, when and from which
 * address. Sending an event (ingestion) and dry runs of a content filter change no setting and are not entries.
 */
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { actionOf, auditTargetKeys, type AuditActor, type AuditEntry } from "../../core/audit.ts";
import { newId } from "../../core/ids.ts";

const notAnAction = [/^POST \/v1\/events$/, /\/test-filter$/];

export function auditTrail(deps: {
  record: (entry: AuditEntry) => Promise<void>;
  now: () => number;
  log: Logger;
}): RequestHandler {
  return (req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next();
    // Ids the answer created (a tenant, an endpoint, a key): only the id fields are kept, never the rest of it.
    const json = res.json.bind(res);
    const created: Partial<Record<(typeof auditTargetKeys)[number], string>> = {};
    res.json = (body: unknown) => {
      if (body && typeof body === "object")
        for (const k of auditTargetKeys) {
          const v = (body as Record<string, unknown>)[k];
          if (typeof v === "string" && v.length <= 200) created[k] = v;
        }
      return json(body);
    };
    // Recorded before the answer leaves (the end of the response waits for it): an answered change has its entry,
    // readable at once. A change whose task dies before its answer may lack one (the answer never came either).
    const end = res.end.bind(res);
    let recorded = false;
    res.end = ((...args: unknown[]) => {
      const entry = recorded ? undefined : entryOf();
      if (!entry) return Reflect.apply(end, res, args) as typeof res;
      recorded = true;
      deps
        .record(entry)
        .catch((err: unknown) => deps.log.error({ err, action: entry.action }, "audit entry not recorded"))
        .finally(() => {
          Reflect.apply(end, res, args);
        });
      return res;
    }) as typeof res.end;
    const entryOf = (): AuditEntry | undefined => {
      if (res.statusCode < 200 || res.statusCode >= 300) return undefined;
      const { action, targets } = actionOf(req.method, req.originalUrl);
      if (notAnAction.some((re) => re.test(action))) return undefined;
      const actor: AuditActor = req.originalUrl.startsWith("/admin")
        ? { kind: "admin" }
        : req.portalSession
          ? { kind: "portal_session" }
          : { kind: "api_key", keyId: req.apiKey?.keyId ?? "" };
      const all = { ...created, ...targets };
      const subjectTenantId = req.tenant?.tenantId ?? all.tenant_id;
      return {
        auditId: newId("aud", deps.now()),
        at: deps.now(),
        actor,
        action,
        ...(subjectTenantId ? { subjectTenantId } : {}),
        targets: all,
        address: req.ip ?? "",
        statusCode: res.statusCode,
      };
    };
    next();
  };
}
