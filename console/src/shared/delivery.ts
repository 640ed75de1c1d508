/**
 * One delivery of an event as the console and the portal show it: its state, its timeline (accepted, each attempt,
 * delivered, dead or skipped, with the time since acceptance) and its attempt log.
 */
import type { z } from "zod";
import type { eventViewSchema } from "../../../services/api/views.ts";
import { badge, h, plural, table, when } from "./dom.ts";

export type DeliveryView = z.output<typeof eventViewSchema>["deliveries"][number];

const elapsed = (ms: number) =>
  ms < 1000
    ? `${ms} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : ms < 7_200_000
        ? `${Math.round(ms / 60_000)} min`
        : `${(ms / 3_600_000).toFixed(1)} h`;

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

export function deliveryCard(createdAt: string, d: DeliveryView): HTMLElement {
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
    timeline(createdAt, d),
    attemptTable(d.attempt_log),
    // An event read carries the newest attempts only; the API pages the rest (GET …/deliveries/{id}/attempts).
    d.earlier_attempts_cursor
      ? h("p", { class: "hint" }, `The newest ${d.attempt_log.length} of ${plural(d.attempts, "attempt")} are shown.`)
      : null,
  );
}
