/**
 * The event catalog as the tenant's consumers see it: each event type with its schema and examples, a "send this
 * example" button per endpoint (unless read-only), and the whole catalog as an OpenAPI document for code generators.
 */
import { badge, h } from "../shared/dom.ts";
import * as api from "./api.ts";
import type { Shell } from "./shell.ts";

const json = (v: unknown) => h("pre", {}, JSON.stringify(v, null, 2));

/** Every type (a catalog is small: pages of 100 until the last). */
async function allTypes(): Promise<api.EventType[]> {
  const all: api.EventType[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.eventTypes(cursor);
    all.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return all;
}

function sendExample(shell: Shell, type: api.EventType, index: number, endpoints: api.Endpoint[]): HTMLElement {
  const pick = h(
    "select",
    { name: "endpoint", "aria-label": "endpoint" },
    ...endpoints.map((e) =>
      h("option", { value: e.endpoint_id }, e.description ? `${e.description} · ${e.url}` : e.url),
    ),
  );
  const result = h("span", { class: "result", "data-testid": "example-result" });
  const send = () =>
    shell.guard(async () => {
      const { event_id: eventId } = await api.sendTest(pick.value, { event_type: type.name, example: index });
      result.replaceChildren(
        "Sent as ",
        h("button", { class: "link mono", onclick: () => shell.go({ view: "event", id: eventId }) }, eventId),
      );
    });
  return h(
    "div",
    { class: "toolbar" },
    pick,
    h("button", { class: "quiet", "data-testid": "send-example", onclick: () => void send() }, "Send this example"),
    result,
  );
}

/** Downloads the catalog as `webhooks.openapi.json` (fetched with the session's token, so not a plain link). */
async function download(): Promise<void> {
  const doc = await api.catalogDocument();
  const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
  const a = h("a", { href: url, download: "webhooks.openapi.json" });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function catalogPage(shell: Shell): Promise<HTMLElement> {
  const [types, endpoints] = await Promise.all([allTypes(), api.endpoints()]);
  const entry = (t: api.EventType) =>
    h(
      "article",
      { class: "panel", "data-testid": "event-type", "data-name": t.name },
      h(
        "div",
        { class: "toolbar" },
        h("h3", { class: "mono" }, t.name),
        t.version > 0
          ? h("span", { class: "badge" }, `schema v${t.version}`)
          : h("span", { class: "badge" }, "no schema"),
        t.schema === null ? null : badge(t.validation === "enforce" ? "ENFORCED" : "WARNS"),
        t.deprecated ? badge("DEPRECATED") : null,
      ),
      t.description ? h("p", {}, t.description) : null,
      t.schema === null ? null : h("details", {}, h("summary", {}, "Schema (JSON Schema 2020-12)"), json(t.schema)),
      ...t.examples.map((example, i) =>
        h(
          "details",
          { open: i === 0 },
          h("summary", {}, `Example ${i + 1}`),
          json(example),
          shell.readOnly || endpoints.data.length === 0 ? null : sendExample(shell, t, i, endpoints.data),
        ),
      ),
    );
  return h(
    "section",
    { "data-testid": "portal-catalog" },
    h(
      "div",
      { class: "toolbar" },
      h("h2", {}, "Event catalog"),
      h(
        "button",
        { class: "quiet", "data-testid": "download-openapi", onclick: () => void shell.guard(download) },
        "Download OpenAPI (for code generators)",
      ),
    ),
    h(
      "p",
      {},
      "The events this sender posts to your endpoints, each with the JSON Schema its payload follows. ",
      "An enforced schema is checked before an event is accepted, so what reaches you conforms to it. ",
      "Generate types for your handlers from the OpenAPI document: ",
      h("code", {}, "npx openapi-typescript webhooks.openapi.json -o webhooks.d.ts"),
      ", then ",
      h("code", {}, 'components["schemas"]["order.paid"]'),
      " is the payload of an ",
      h("code", {}, "order.paid"),
      " event.",
    ),
    types.length ? h("div", {}, ...types.map(entry)) : h("p", { class: "empty" }, "No event types are described yet."),
  );
}
