/**
 * The operator console: queue and DLQ depth, charts of the last hour or day and recent events by status, an
 * event's timeline, deliveries and attempt log, the dead-letter queue with dry run and requeue, endpoints with
 * their disable reason and their ordering keys with events waiting. Plain DOM: every value from the API (payloads,
 * receivers' response excerpts, ordering keys) goes in as text, never as HTML.
 */
import * as api from "./api.ts";
import { chartsPanel } from "./charts.ts";
import { deliveryCard } from "./shared/delivery.ts";
import { badge, h, plural, table, when } from "./shared/dom.ts";
import { waitingKeys, waitingKeysPanel } from "./shared/ordering.ts";
import "./style.css";

type View = "events" | "dlq" | "endpoints";
const state = {
  view: "events" as View,
  tenantId: "",
  status: "",
  tenants: [] as api.Tenant[],
  selected: undefined as { tenantId: string; eventId: string } | undefined,
  /** The endpoint whose ordering keys the endpoints view shows. */
  keysOf: undefined as { tenantId: string; endpointId: string } | undefined,
  maxMessages: 100,
  notice: "",
  window: "hour" as "hour" | "day",
};

const root = document.querySelector<HTMLDivElement>("#app")!;
let timer: ReturnType<typeof setInterval> | undefined;

function showLogin(message = ""): void {
  clearInterval(timer);
  const input = h("input", {
    type: "password",
    name: "token",
    placeholder: "Admin token",
    autocomplete: "off",
    required: true,
  });
  const error = h("p", { class: "error", role: "alert" }, message);
  const form = h(
    "form",
    {
      class: "login",
      onsubmit: (e) => {
        e.preventDefault();
        api.logIn(input.value).then(
          () => void start(),
          (err: unknown) =>
            (error.textContent =
              err instanceof api.ApiError && err.status === 401 ? "That token was refused." : String(err)),
        );
      },
    },
    h("h1", {}, "Webhooks console"),
    h("p", {}, "Sign in with the admin token. It is kept in this page's memory only: a reload asks again."),
    input,
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  root.replaceChildren(form);
  input.focus();
}

async function start(): Promise<void> {
  state.tenants = (await api.tenants()).data;
  await render();
  // Only the depth cards refresh by themselves: a list redrawn under the reader's eyes is worse than a button.
  timer = setInterval(
    () => void guard(async () => document.querySelector(".cards")?.replaceWith(cards(await api.stats()))),
    5000,
  );
}

/** Any call refused for the token (it was rotated, or the API restarted with another) goes back to login. */
async function guard(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 401) showLogin("The session ended: sign in again.");
    else state.notice = `Error: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function render(): Promise<void> {
  await guard(async () => {
    const [stats, body] = await Promise.all([api.stats(), viewBody()]);
    const tab = (view: View, label: string) =>
      h(
        "button",
        {
          class: state.view === view ? "tab active" : "tab",
          "data-view": view,
          onclick: () => go({ view, selected: undefined }),
        },
        label,
      );
    root.replaceChildren(
      h(
        "header",
        {},
        h("h1", {}, "Webhooks console"),
        cards(stats),
        h("button", { class: "quiet", onclick: () => void render() }, "Refresh"),
        h("button", { class: "quiet", onclick: () => (api.logOut(), showLogin()) }, "Sign out"),
      ),
      h(
        "nav",
        {},
        tab("events", "Events"),
        tab("dlq", "Dead letters"),
        tab("endpoints", "Endpoints"),
        h("label", {}, "Tenant ", tenantSelect()),
      ),
      h("p", { class: "notice", role: "status" }, state.notice),
      h("main", {}, body),
    );
  });
}

function cards(stats: api.Stats): HTMLElement {
  const { queue: q, dead_letter_queue: dlq } = stats;
  return h(
    "div",
    { class: "cards" },
    card(
      "Queue",
      `${q.visible} waiting · ${q.in_flight} in flight · ${q.delayed} delayed`,
      `oldest due ${when(q.oldest_due_at)}`,
      "queue-depth",
    ),
    card("Dead-letter queue", plural(dlq.visible + dlq.in_flight, "message"), "", "dlq-depth"),
  );
}

function card(title: string, value: string, sub: string, testId: string): HTMLElement {
  return h(
    "div",
    { class: "card", "data-testid": testId },
    h("span", { class: "title" }, title),
    h("strong", {}, value),
    sub ? h("small", {}, sub) : null,
  );
}

function go(change: Partial<typeof state>): void {
  Object.assign(state, { notice: "" }, change);
  void render();
}

function tenantSelect(): HTMLSelectElement {
  const select = h("select", {
    name: "tenant",
    onchange: () => go({ tenantId: select.value, selected: undefined, keysOf: undefined }),
  });
  select.append(
    h("option", { value: "" }, "All tenants"),
    ...state.tenants.map((t) => h("option", { value: t.tenant_id }, `${t.name} (${t.tenant_id})`)),
  );
  select.value = state.tenantId;
  return select;
}

async function viewBody(): Promise<HTMLElement> {
  if (state.view === "dlq") return deadLetterView();
  if (state.view === "endpoints") return endpointView();
  return state.selected ? eventDetailView(state.selected.tenantId, state.selected.eventId) : eventListView();
}

async function eventListView(): Promise<HTMLElement> {
  // Without a tenant filter: the newest events of the first 20 tenants, merged.
  const ids = state.tenantId ? [state.tenantId] : state.tenants.slice(0, 20).map((t) => t.tenant_id);
  const [history, ...pages] = await Promise.all([
    api.statsHistory(state.window),
    ...ids.map(async (tenantId) => (await api.events(tenantId, state.status)).data.map((e) => ({ ...e, tenantId }))),
  ]);
  const rows = pages
    .flat()
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, 50)
    .map((e) =>
      h(
        "tr",
        {
          class: "link",
          "data-event-id": e.event_id,
          onclick: () => go({ selected: { tenantId: e.tenantId, eventId: e.event_id } }),
        },
        h("td", { class: "mono" }, e.event_id),
        h("td", {}, e.type ?? "—"),
        h("td", {}, badge(e.status)),
        h("td", {}, when(e.created_at)),
        h("td", { class: "mono" }, e.tenantId),
      ),
    );
  const status = h("select", { name: "status", onchange: () => go({ status: status.value }) });
  status.append(
    ...["", "PENDING", "DELIVERED", "DEAD", "SKIPPED"].map((s) => h("option", { value: s }, s || "Any status")),
  );
  status.value = state.status;
  return h(
    "div",
    {},
    chartsPanel(history, (window) => go({ window })),
    h(
      "section",
      { "data-testid": "events" },
      h("div", { class: "toolbar" }, h("h2", {}, "Recent events"), status),
      table(["Event", "Type", "Status", "Created", "Tenant"], rows, "No events."),
    ),
  );
}

async function eventDetailView(tenantId: string, eventId: string): Promise<HTMLElement> {
  const e = await api.event(tenantId, eventId);
  const retryable = e.deliveries.some((d) => d.status === "DEAD" || d.status === "SKIPPED");
  const retry = async () =>
    guard(async () => {
      const { requeued, already_queued: queued } = await api.retryEvent(tenantId, eventId);
      go({
        notice: `${requeued.length} deliveries requeued${queued.length ? `; ${queued.length} still waiting for their next attempt` : ""}.`,
      });
    });
  return h(
    "section",
    { "data-testid": "event-detail" },
    h(
      "div",
      { class: "toolbar" },
      h("button", { class: "quiet", onclick: () => go({ selected: undefined }) }, "← Events"),
      h("h2", {}, "Event ", h("span", { class: "mono" }, e.event_id)),
      badge(e.status),
    ),
    h(
      "p",
      {},
      `Type ${e.type ?? "—"} · created ${when(e.created_at)} · tenant `,
      h("span", { class: "mono" }, tenantId),
      e.ordering_key === null ? "" : " · ordering key ",
      e.ordering_key === null ? null : h("code", { "data-testid": "ordering-key" }, e.ordering_key),
    ),
    retryable ? h("button", { onclick: () => void retry() }, "Retry dead and skipped deliveries") : null,
    h("details", {}, h("summary", {}, "Payload"), h("pre", {}, JSON.stringify(e.payload, null, 2))),
    ...e.deliveries.map((d) => deliveryCard(e.created_at, d, (id) => go({ selected: { tenantId, eventId: id } }))),
  );
}

async function deadLetterView(): Promise<HTMLElement> {
  const page = await api.deadLetters(state.tenantId);
  const max = h("input", {
    type: "number",
    name: "max_messages",
    min: "1",
    max: "10000",
    value: String(state.maxMessages),
  });
  max.addEventListener("change", () => (state.maxMessages = Number(max.value) || 1));
  const run = (dryRun: boolean) =>
    guard(async () => {
      const r = await api.requeue({ tenantId: state.tenantId, maxMessages: state.maxMessages, dryRun });
      const verb = dryRun ? "Dry run: would move" : "Requeued";
      go({
        notice: `${verb} ${r.moved} · skipped ${r.skipped} · stale ${r.stale} · failed ${r.failed} (${r.duration_ms} ms).${r.complete ? "" : " Stopped at the 20 s limit: run it again for the rest."}`,
      });
    });
  const rows = page.data.map((m) =>
    h(
      "tr",
      { "data-event-id": m.event_id ?? "" },
      h(
        "td",
        {
          class: "mono link",
          onclick: () =>
            m.event_id &&
            m.tenant_id &&
            go({ view: "events", selected: { tenantId: m.tenant_id, eventId: m.event_id } }),
        },
        m.event_id ?? "(unreadable)",
      ),
      h("td", { class: "mono" }, m.endpoint_id ?? "—"),
      h("td", {}, m.delivery ? badge(m.delivery.status) : "—"),
      h("td", {}, m.delivery?.attempts ?? "—"),
      h("td", {}, m.delivery?.last_status_code ?? "—"),
      h("td", {}, m.delivery?.last_error ?? ""),
      h("td", {}, when(m.delivery?.dead_at ?? m.dead_lettered_at)),
    ),
  );
  return h(
    "section",
    { "data-testid": "dlq" },
    h(
      "div",
      { class: "toolbar" },
      h("h2", {}, `Dead letters (${page.count})`),
      h("label", {}, "Up to ", max, " messages"),
      h("button", { class: "quiet", onclick: () => void run(true) }, "Dry run"),
      h("button", { onclick: () => void run(false) }, "Requeue"),
    ),
    h(
      "p",
      { class: "hint" },
      state.tenantId
        ? "Only this tenant's messages are requeued."
        : "Every tenant's messages are requeued; pick a tenant to narrow it.",
    ),
    table(
      ["Event", "Endpoint", "Delivery", "Attempts", "Last status", "Last error", "Dead since"],
      rows,
      "The dead-letter queue is empty.",
    ),
  );
}

async function endpointView(): Promise<HTMLElement> {
  state.tenants = (await api.tenants()).data;
  const shown = state.tenants.filter((t) => !state.tenantId || t.tenant_id === state.tenantId);
  const toggle = (tenantId: string, e: api.Endpoint) =>
    guard(async () => {
      await api.setEndpointEnabled(tenantId, e.endpoint_id, !e.enabled);
      go({ notice: `Endpoint ${e.endpoint_id} ${e.enabled ? "disabled" : "re-enabled"}.` });
    });
  const rows = shown.flatMap((t) =>
    t.endpoints.map((e) =>
      h(
        "tr",
        { "data-endpoint-id": e.endpoint_id },
        h("td", {}, t.name),
        h("td", { class: "mono" }, e.endpoint_id),
        h(
          "td",
          { class: "mono" },
          e.url,
          // An AWS destination: its service, and the role and external id its owner's trust policy names.
          e.type === "http"
            ? null
            : h("small", { "data-testid": "destination" }, ` ${e.type} via ${e.role_arn} · ${e.external_id}`),
        ),
        h("td", {}, e.event_types.join(", ") || "every event"),
        h("td", {}, e.enabled ? badge("ENABLED") : badge("DISABLED")),
        h("td", {}, e.disabled_reason ?? "", e.failing_since ? ` (failing since ${when(e.failing_since)})` : ""),
        h(
          "td",
          {},
          h(
            "button",
            { class: "quiet", onclick: () => void toggle(t.tenant_id, e) },
            e.enabled ? "Disable" : "Re-enable",
          ),
          " ",
          h(
            "button",
            { class: "quiet", onclick: () => go({ keysOf: { tenantId: t.tenant_id, endpointId: e.endpoint_id } }) },
            "Ordering keys",
          ),
        ),
      ),
    ),
  );
  return h(
    "section",
    { "data-testid": "endpoints" },
    h("h2", {}, "Endpoints"),
    table(["Tenant", "Endpoint", "Where", "Events", "State", "Reason", ""], rows, "No endpoints."),
    state.keysOf ? await orderingKeysView(state.keysOf.tenantId, state.keysOf.endpointId) : null,
  );
}

/** One endpoint's ordering keys with events waiting, each head a link to its event (read on each render). */
async function orderingKeysView(tenantId: string, endpointId: string): Promise<HTMLElement> {
  const w = await waitingKeys((cursor) => api.orderingKeys(tenantId, endpointId, cursor));
  return h(
    "section",
    { "data-testid": "endpoint-ordering-keys", "data-endpoint-id": endpointId },
    h("h3", {}, "Ordering keys of ", h("span", { class: "mono" }, endpointId)),
    waitingKeysPanel(w, { openEvent: (eventId) => go({ view: "events", selected: { tenantId, eventId } }) }),
  );
}

showLogin();
