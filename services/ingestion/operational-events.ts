/**
 * Emitting operational events: accepted into the system tenant like any event (the same store and enqueue path, so
 * the same signing, retries, attempt log and DLQ), when an operator has an endpoint for its type.
 *
 * One tenant cannot flood them: notices of one kind about one endpoint are gathered per window. The first goes at
 * once (count 1); the rest of the window's go as one event at its end, with their count and when the first happened;
 * a flood that goes on sends one event per window. Nothing is dropped without a word: a failed write (the system
 * tenant's partition throttled, a backend down) counts in webhooks_operational_events_failed_total, is logged, and
 * its notices are kept and sent with the next try, at the end of the window. Each process gathers its own.
 * Emitting never fails its caller.
 */
import type { Logger } from "pino";
import { matchesEventTypes } from "../core/event-type.ts";
import { noticeKey, operationalEvent, type Gathered, type OperationalNotice } from "../core/operational-events.ts";
import { isSystemTenant, systemTenantId } from "../core/system-tenant.ts";
import type { Tenant } from "../core/tenant.ts";
import { inOwnTrace, SpanKind } from "../tracing/spans.ts";
import { acceptEvent, type AcceptDeps } from "./accept-event.ts";

export interface NotifyDeps extends AcceptDeps {
  /** The system tenant (and so its subscribed endpoints), through the caller's tenant cache. */
  readonly getTenant: (tenantId: string) => Promise<Tenant | undefined>;
  readonly log: Logger;
  /** How long notices of one kind about one endpoint are gathered into one event. @default 60_000 */
  readonly windowMs?: number;
  /** Endpoints with a window open at once at most; beyond, a notice goes on its own at once. @default 10_000 */
  readonly maxWindows?: number;
}

export interface Notify {
  (notice: OperationalNotice): Promise<void>;
  /** Sends what every open window has gathered now (on shutdown); resolves once each was tried. */
  flush(): Promise<void>;
}

/** An open window: what it gathered since its first notice went (none yet: undefined), and when it closes. */
interface Window {
  gathered?: Gathered & { readonly last: OperationalNotice };
  timer: NodeJS.Timeout;
}

export function operationalNotifier(deps: NotifyDeps): Notify {
  const windowMs = deps.windowMs ?? 60_000;
  const maxWindows = deps.maxWindows ?? 10_000;
  const windows = new Map<string, Window>();

  /** Stores and enqueues one event; false when that failed (counted and logged here; the caller keeps the notices). */
  const send = async (notice: OperationalNotice, gathered: Gathered): Promise<boolean> => {
    const log = deps.log.child({ operational_event: notice.type, ...notice.data, count: gathered.count });
    try {
      const event = operationalEvent(notice, deps.now(), gathered);
      if (!event) return true;
      const system = await deps.getTenant(systemTenantId);
      // Nobody subscribed to it: nothing stored, so an idle platform writes no operational events at all.
      if (!system || !Object.values(system.endpoints).some((e) => matchesEventTypes(e.eventTypes, event.type)))
        return true;
      // A trace of its own: nothing of the tenant's trace rides into what operators receive.
      const out = await inOwnTrace("operational event", { kind: SpanKind.PRODUCER }, () =>
        acceptEvent(deps, { tenant: system, body: Buffer.from(JSON.stringify(event)), parsed: event, log }),
      );
      log.info({ event_id: out.eventId }, "operational event emitted");
      return true;
    } catch (err) {
      deps.metrics.operationalNoticesFailed.inc({ type: notice.type });
      log.warn({ err }, "operational event not emitted: kept, to be sent with the next try");
      return false;
    }
  };

  /** Adds notices to what a window gathered; the newest one's data stands for them all. */
  const keep = (w: Window, more: Gathered & { readonly last: OperationalNotice }, newer: boolean) => {
    const had = w.gathered;
    w.gathered = had
      ? { count: had.count + more.count, since: Math.min(had.since, more.since), last: newer ? more.last : had.last }
      : more;
  };

  /** The window's end: what it gathered goes as one event, and the window opens again; with nothing, it closes. */
  const close = async (key: string) => {
    const w = windows.get(key);
    if (!w) return;
    const gathered = w.gathered;
    if (!gathered) {
      windows.delete(key);
      return;
    }
    w.gathered = undefined;
    w.timer = setTimeout(() => void close(key), windowMs).unref();
    // Kept on failure, older than anything gathered meanwhile.
    if (!(await send(gathered.last, gathered))) keep(w, gathered, false);
  };

  const notify = async (notice: OperationalNotice) => {
    if (isSystemTenant(notice.data.tenant_id)) return;
    const key = noticeKey(notice);
    const now = deps.now();
    const open = windows.get(key);
    const single = { count: 1, since: now, last: notice };
    if (open) {
      keep(open, single, true);
      return;
    }
    if (windows.size >= maxWindows) {
      if (!(await send(notice, single)))
        deps.log.error({ operational_event: notice.type, ...notice.data }, "operational event lost: too many open");
      return;
    }
    const w: Window = { timer: setTimeout(() => void close(key), windowMs).unref() };
    windows.set(key, w);
    if (!(await send(notice, single))) keep(w, single, true);
  };

  notify.flush = async () => {
    const open = [...windows.entries()];
    windows.clear();
    await Promise.all(
      open.map(async ([, w]) => {
        clearTimeout(w.timer);
        const g = w.gathered;
        if (g && !(await send(g.last, g)))
          deps.log.error({ operational_event: g.last.type, ...g.last.data, count: g.count }, "operational event lost");
      }),
    );
  };
  return notify;
}
