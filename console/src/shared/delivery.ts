/**
 * One delivery of an event as the console and the portal show it: its state, where it stands in its ordering key's
 * line, its timeline (accepted, each attempt, delivered, dead or skipped, with the time since acceptance) and its
 * attempt log.
 */
import type { z } from "zod";
import type { eventViewSchema } from "../../../services/api/views.ts";
import { badge, elapsed, h, plural, table, when } from "./dom.ts";
import { orderingNote } from "./ordering.ts";

export type DeliveryView = z.output<typeof eventViewSchema>["deliveries"][number];

/** A delivery's story at a glance. */
function timeline(createdAt: string, d: DeliveryView): HTMLElement {
  const accepted = Date.parse(createdAt);
  const steps = [
    { kind: "accepted", label: "Accepted", at: accepted },
    ...d.attempt_log.map((a) => ({
      kind: a.status_code !== null && a.status_code < 300 ? "ok" : "failed",
      label: `#${a.attempt} · ${a.status_code ?? "no answer"}`,
      at: Date.parse(a.at),
    })),
    ...(d.delivered_at ? [{ kind: "delivered", label: "Delivered", at: Date.parse(d.delivered_at) }] : []),
    ...(d.dead_at ? [{ kind: "dead", label: "Dead", at: Date.parse(d.dead_at) }] : []),
    ...(d.skipped_at ? [{ kind: "skipped", label: "Skipped", at: Date.parse(d.skipped_at) }] : []),
  ];
  return h(
    "ol",
    { class: "timeline", "data-testid": "timeline" },
    ...steps.map((s) =>
      h(
        "li",
        { class: `step ${s.kind}`, title: new Date(s.at).toLocaleString() },
        h("span", { class: "dot" }),
        h("strong", {}, s.label),
        h("small", {}, s.at === accepted ? when(createdAt) : `+${elapsed(s.at - accepted)}`),
      ),
    ),
  );
}

/** The attempts, oldest first: when, the status, how long, the error, the start of the response (as text). */
export function attemptTable(log: DeliveryView["attempt_log"]): HTMLElement {
  return table(
    ["#", "At", "Status", "Latency", "Error", "Response excerpt"],
    log.map((a) =>
      h(
        "tr",
        {},
        h("td", {}, a.attempt),
        h("td", {}, when(a.at)),
        h("td", {}, a.status_code ?? "—"),
        h("td", {}, `${a.duration_ms} ms`),
        h("td", {}, a.error ?? ""),
        h("td", {}, h("code", {}, a.response_excerpt ?? "")),
      ),
    ),
    "No attempts yet.",
  );
}

/** `openEvent` makes the events an ordered delivery waits or waited for links. */
export function deliveryCard(createdAt: string, d: DeliveryView, openEvent?: (eventId: string) => void): HTMLElement {
  return h(
    "article",
    { class: "delivery", "data-endpoint-id": d.endpoint_id },
    h("h3", {}, "Endpoint ", h("span", { class: "mono" }, d.endpoint_id), " ", badge(d.status)),
    h(
      "p",
      {},
      `webhook-id ${d.webhook_id} · ${plural(d.attempts, "attempt")}`,
      d.next_attempt_at ? ` · next ${when(d.next_attempt_at)}` : "",
      d.delivered_at ? ` · delivered ${when(d.delivered_at)}` : "",
      d.dead_at ? ` · dead ${when(d.dead_at)}` : "",
      d.skipped_at ? ` · skipped ${when(d.skipped_at)} (its endpoint was disabled)` : "",
    ),
    orderingNote(createdAt, d, openEvent),
    timeline(createdAt, d),
    attemptTable(d.attempt_log),
    // An event read carries the newest attempts only; the API pages the rest (GET …/deliveries/{id}/attempts).
    d.earlier_attempts_cursor
      ? h("p", { class: "hint" }, `The newest ${d.attempt_log.length} of ${plural(d.attempts, "attempt")} are shown.`)
      : null,
  );
}
