/**
 * The tenant's recent events, newest first, by type and status; one event with its payload and each delivery's
 * attempt log, and (unless read-only) a retry of what died or was skipped.
 */
import { deliveryCard } from "../shared/delivery.ts";
import { badge, h, table, when } from "../shared/dom.ts";
import * as api from "./api.ts";
import type { Shell } from "./shell.ts";

/** The filter, kept while the reader goes to an event and back. */
const filter = { type: "", status: "" };
const statuses = ["", "PENDING", "DELIVERED", "DEAD", "SKIPPED"];

export async function eventList(shell: Shell): Promise<HTMLElement> {
  const rowOf = (e: api.EventSummary) =>
    h(
      "tr",
      { class: "link", "data-event-id": e.event_id, onclick: () => shell.go({ view: "event", id: e.event_id }) },
      h("td", { class: "mono" }, e.event_id),
      h("td", {}, e.type ?? "—"),
      h("td", {}, badge(e.status)),
      h("td", {}, when(e.created_at)),
    );
  const first = await api.events({ type: filter.type || undefined, status: filter.status || undefined });
  const list = table(["Event", "Type", "Status", "Created"], first.data.map(rowOf), "No events.");
  let cursor = first.next_cursor;
  const more = h("button", { class: "quiet", hidden: cursor === null }, "More");
  more.addEventListener(
    "click",
    () =>
      void shell.guard(async () => {
        const page = await api.events({
          type: filter.type || undefined,
          status: filter.status || undefined,
          cursor: cursor ?? undefined,
        });
        list.querySelector("tbody")?.append(...page.data.map(rowOf));
        cursor = page.next_cursor;
        more.hidden = cursor === null;
      }),
  );
  const type = h("input", { name: "type", placeholder: "Type, e.g. order.paid", value: filter.type });
  const status = h("select", { name: "status" }, ...statuses.map((s) => h("option", { value: s }, s || "Any status")));
  status.value = filter.status;
  const apply = (e: Event) => {
    e.preventDefault();
    Object.assign(filter, { type: type.value.trim(), status: status.value });
    shell.go({ view: "events" });
  };
  return h(
    "section",
    { "data-testid": "portal-events" },
    h(
      "form",
      { class: "toolbar", onsubmit: apply },
      h("h2", {}, "Recent events"),
      type,
      status,
      h("button", { type: "submit", class: "quiet" }, "Filter"),
    ),
    list,
    more,
  );
}

export async function eventDetail(shell: Shell, id: string): Promise<HTMLElement> {
  const e = await api.event(id);
  const retryable = !shell.readOnly && e.deliveries.some((d) => d.status === "DEAD" || d.status === "SKIPPED");
  const retry = () =>
    shell.guard(async () => {
      const r = await api.retryEvent(id);
      shell.go(
        { view: "event", id },
        `Sent again to ${r.requeued.length} endpoint${r.requeued.length === 1 ? "" : "s"}.`,
      );
    });
  return h(
    "section",
    { "data-testid": "portal-event" },
    h(
      "div",
      { class: "toolbar" },
      h("button", { class: "quiet", onclick: () => shell.go({ view: "events" }) }, "← Events"),
      h("h2", {}, "Event ", h("span", { class: "mono" }, e.event_id)),
      badge(e.status),
    ),
    h(
      "p",
      {},
      `Type ${e.type ?? "—"} · created ${when(e.created_at)}`,
      e.ordering_key === null ? "" : " · ordering key ",
      e.ordering_key === null ? null : h("code", { "data-testid": "ordering-key" }, e.ordering_key),
    ),
    retryable ? h("button", { onclick: () => void retry() }, "Retry what died or was skipped") : null,
    h("details", { open: true }, h("summary", {}, "Payload"), h("pre", {}, JSON.stringify(e.payload, null, 2))),
    ...e.deliveries.map((d) => deliveryCard(e.created_at, d, (other) => shell.go({ view: "event", id: other }))),
  );
}
