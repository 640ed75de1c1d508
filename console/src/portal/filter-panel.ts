/**
 * An endpoint's content filter: written as JSON, tried against the tenant's newest 20 events (with the endpoint's
 * event types) before it is saved, removed. The API checks it and names the bad node by its JSON pointer.
 */
import { badge, h, table, when } from "../shared/dom.ts";
import * as api from "./api.ts";
import type { Shell } from "./shell.ts";

export const exampleFilter = { data: { amount: { $gt: 100 }, currency: { $in: ["EUR", "USD"] } } };

export function filterPanel(shell: Shell, e: api.Endpoint): HTMLElement {
  const text = h("textarea", { name: "filter", rows: "8", cols: "60", spellcheck: false, "aria-label": "filter" });
  text.value = JSON.stringify(e.filter ?? exampleFilter, null, 2);
  const result = h("div", { "data-testid": "filter-test" });
  const parsed = (): api.PayloadFilter => {
    try {
      return JSON.parse(text.value) as api.PayloadFilter;
    } catch {
      throw new Error("The filter is not valid JSON.");
    }
  };
  const tryIt = () =>
    shell.guard(async () => {
      const { data } = await api.testFilter(parsed(), e.event_types);
      const matched = data.filter((d) => d.matches).length;
      result.replaceChildren(
        h("p", {}, `${matched} of the newest ${data.length} events would be delivered to this endpoint.`),
        table(
          ["event", "type", "created", ""],
          data.map((d) =>
            h(
              "tr",
              { "data-matches": String(d.matches) },
              h("td", { class: "mono" }, d.event_id),
              h("td", {}, d.type ?? "—"),
              h("td", {}, when(d.created_at)),
              h("td", {}, badge(d.matches ? "DELIVERED" : "FILTERED")),
            ),
          ),
          "No events yet to try it on.",
        ),
      );
    });
  const save = (filter: api.PayloadFilter | null) =>
    shell.guard(async () => {
      await api.changeEndpoint(e.endpoint_id, { filter });
      shell.go({ view: "endpoint", id: e.endpoint_id }, filter ? "Filter saved." : "Filter removed.");
    });
  return h(
    "div",
    { class: "panel", "data-testid": "filter-panel" },
    h("h3", {}, "Filter on the payload"),
    h(
      "p",
      {},
      "Only events whose payload matches are delivered (besides the event types). Operators: ",
      h("code", {}, "$eq $neq $in $nin $gt $gte $lt $lte $exists $startsWith $and $or $not"),
      "; a plain value means equal. At most 5 levels and 50 operators.",
    ),
    text,
    h(
      "div",
      { class: "toolbar" },
      h(
        "button",
        { class: "quiet", "data-testid": "try-filter", onclick: () => void tryIt() },
        "Test this filter against the last 20 events",
      ),
      h(
        "button",
        { "data-testid": "save-filter", onclick: () => void shell.guard(async () => save(parsed())) },
        "Save filter",
      ),
      e.filter ? h("button", { class: "quiet danger", onclick: () => void save(null) }, "Remove filter") : null,
    ),
    result,
  );
}
