/** The tenant's endpoints: each one's address, filter and state; and, unless read-only, a form to add one. */
import { badge, h, table } from "../shared/dom.ts";
import * as api from "./api.ts";
import type { Shell } from "./shell.ts";

/** `order.*, invoice.paid` as a filter; empty: every event. */
export const eventTypesOf = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

export async function endpointList(shell: Shell): Promise<HTMLElement> {
  const { data } = await api.endpoints();
  const rows = data.map((e) =>
    h(
      "tr",
      {
        class: "link",
        "data-endpoint-id": e.endpoint_id,
        onclick: () => shell.go({ view: "endpoint", id: e.endpoint_id }),
      },
      h("td", { class: "mono" }, e.url),
      h("td", {}, e.description ?? ""),
      h("td", {}, e.event_types.join(", ") || "every event"),
      h("td", {}, badge(e.enabled ? "ENABLED" : "DISABLED")),
      h("td", {}, e.disabled_reason ?? ""),
    ),
  );
  return h(
    "section",
    { "data-testid": "portal-endpoints" },
    h("h2", {}, "Endpoints"),
    table(["URL", "Description", "Events", "State", ""], rows, "No endpoints yet."),
    shell.readOnly ? null : createForm(shell),
  );
}

function createForm(shell: Shell): HTMLElement {
  const url = h("input", {
    name: "url",
    type: "url",
    placeholder: "https://example.com/webhooks",
    required: true,
    size: "44",
  });
  const description = h("input", { name: "description", placeholder: "Description (optional)", maxlength: "500" });
  const types = h("input", { name: "event_types", placeholder: "Events, e.g. order.* (empty: all)", size: "28" });
  const add = (e: Event) => {
    e.preventDefault();
    void shell.guard(async () => {
      const created = await api.createEndpoint({
        url: url.value,
        ...(description.value ? { description: description.value } : {}),
        ...(types.value ? { event_types: eventTypesOf(types.value) } : {}),
      });
      // Its secret goes to the endpoint's page, in memory only: shown there once.
      shell.go({ view: "endpoint", id: created.endpoint_id, secret: created.secret }, "Endpoint added.");
    });
  };
  return h(
    "form",
    { class: "form", "data-testid": "create-endpoint", onsubmit: add },
    h("h3", {}, "Add an endpoint"),
    url,
    description,
    types,
    h("button", { type: "submit" }, "Add endpoint"),
  );
}
