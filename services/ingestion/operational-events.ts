/**
 * Emitting an operational event: accepted into the system tenant like any event (the same store and enqueue
 * path, so the same signing, retries, attempt log and DLQ), when an operator has an endpoint for its type.
 * Emitting never fails its caller: a delivery or a request goes on, and the failure is logged.
 */
import type { Logger } from "pino";
import { matchesEventTypes } from "../core/event-type.ts";
import { operationalEvent, type OperationalNotice } from "../core/operational-events.ts";
import { systemTenantId } from "../core/system-tenant.ts";
import type { Tenant } from "../core/tenant.ts";
import { acceptEvent, type AcceptDeps } from "./accept-event.ts";

export interface NotifyDeps extends AcceptDeps {
  /** The system tenant (and so its subscribed endpoints), through the caller's tenant cache. */
  readonly getTenant: (tenantId: string) => Promise<Tenant | undefined>;
  readonly log: Logger;
}

export type Notify = (notice: OperationalNotice) => Promise<void>;

export function operationalNotifier(deps: NotifyDeps): Notify {
  return async (notice) => {
    const log = deps.log.child({ operational_event: notice.type, ...notice.data });
    try {
      const event = operationalEvent(notice, deps.now());
      if (!event) return;
      const system = await deps.getTenant(systemTenantId);
      // Nobody subscribed to it: nothing stored, so an idle platform writes no operational events at all.
      if (!system || !Object.values(system.endpoints).some((e) => matchesEventTypes(e.eventTypes, event.type))) return;
      const out = await acceptEvent(deps, {
        tenant: system,
        body: Buffer.from(JSON.stringify(event)),
        parsed: event,
        log,
      });
      log.info({ event_id: out.eventId }, "operational event emitted");
    } catch (err) {
      log.warn({ err }, "operational event not emitted");
    }
  };
}
