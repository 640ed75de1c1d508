/**
 * One endpoint: its state, health (the last hour and day as numbers, the last 24 hours as a chart), its ordering keys
 * with events waiting, and, unless the session is read-only, what may be done with it: a test event, edit, disable or
 * enable (enabling offers to recover what it missed), rotate its secret, recover a time range, delete, skip a key's
 * dead or skipped head.
 */
import { chart, colors } from "../shared/chart.ts";
import { badge, h, plural, when } from "../shared/dom.ts";
import { waitingKeys, waitingKeysPanel, type OrderingKey } from "../shared/ordering.ts";
import * as api from "./api.ts";
import { eventTypesOf } from "./endpoint-list.ts";
import { filterPanel } from "./filter-panel.ts";
import { recoverPanel } from "./recover-panel.ts";
import type { Route, Shell } from "./shell.ts";
import { testEvent } from "./test-event.ts";

type Window = api.Stats["last_hour"];
const percent = (rate: number | null) => (rate === null ? "—" : `${Math.round(rate * 1000) / 10}%`);
const ms = (v: number | null) => (v === null ? "—" : `${Math.round(v)} ms`);

function health(title: string, w: Window, testId: string): HTMLElement {
  return h(
    "div",
    { class: "card", "data-testid": testId },
    h("span", { class: "title" }, title),
    h(
      "strong",
      {},
      w.attempts === 0 ? "no attempts" : `${plural(w.attempts, "attempt")} · ${percent(w.success_rate)} delivered`,
    ),
    h("small", {}, `${w.failed} failed · p50 ${ms(w.latency_p50_ms)} · p95 ${ms(w.latency_p95_ms)}`),
  );
}

function dayChart(s: api.Stats): HTMLElement {
  const delivered = s.hours.map((p) => p.delivered);
  const failed = s.hours.map((p) => p.failed);
  const total = (v: number[]) => v.reduce((a, b) => a + b, 0);
  return chart(
    "chart-endpoint",
    "Attempts per hour, last 24 hours",
    `${total(delivered)} delivered · ${total(failed)} failed`,
    [
      { label: "delivered", color: colors.ok, values: delivered, bars: true },
      { label: "failed", color: colors.bad, values: failed },
    ],
    s.hours.map((p) => Date.parse(p.at) / 1000),
    3600,
    { width: 560, height: 170 },
  );
}

/**
 * An AWS destination: where it delivers, through which role, and what the customer's role must say, to paste (the
 * trust policy names this endpoint's external id, so no other tenant of the platform can use the role).
 */
function destinationPanel(e: api.Endpoint): HTMLElement | null {
  if (e.type === "http") return null;
  const policy = (title: string, doc: Record<string, unknown> | undefined, testId: string) =>
    doc ? [h("h4", {}, title), h("pre", { "data-testid": testId }, JSON.stringify(doc, null, 2))] : [];
  return h(
    "section",
    { class: "panel", "data-testid": "destination" },
    h("h3", {}, `Delivers into AWS (${e.type})`),
    h("p", {}, "Through the role ", h("code", {}, e.role_arn ?? ""), ", with the external id "),
    h("p", {}, h("code", { "data-testid": "external-id" }, e.external_id ?? "")),
    ...policy("The role's trust policy", e.trust_policy, "trust-policy"),
    ...policy("The permission the role needs", e.permissions_policy, "permissions-policy"),
  );
}

/** A secret shown this once: the API never answers it again. */
function secretBox(title: string, secret: string, note: string): HTMLElement {
  return h(
    "div",
    { class: "secret", "data-testid": "new-secret" },
    h("strong", {}, title),
    h("code", {}, secret),
    h("small", {}, note),
  );
}

export async function endpointDetail(shell: Shell, route: Extract<Route, { view: "endpoint" }>): Promise<HTMLElement> {
  const { id } = route;
  const [e, stats, keys] = await Promise.all([
    api.endpoint(id),
    api.stats(id),
    waitingKeys((cursor) => api.orderingKeys(id, cursor)),
  ]);
  const panels = h("div", { class: "panels" });
  const show = (panel: HTMLElement) => panels.replaceChildren(panel);
  const earliest = [e.failing_since, e.disabled_at].filter((t): t is string => t !== undefined).sort()[0];

  const toggle = () =>
    shell.guard(async () => {
      await api.changeEndpoint(id, { enabled: !e.enabled });
      if (e.enabled)
        shell.go(
          { view: "endpoint", id },
          "Endpoint disabled: new events are recorded for it as skipped until it is enabled again.",
        );
      // Back on: offer to send what it missed, from when it was disabled (or began failing).
      else
        shell.go(
          { view: "endpoint", id, recoverSince: earliest ?? new Date(Date.now() - 86_400_000).toISOString() },
          "Endpoint enabled.",
        );
    });
  const edit = () => {
    // An AWS destination's target is an ARN or a queue URL, changed as `target`.
    const http = e.type === "http";
    const url = h("input", { name: "url", type: http ? "url" : "text", value: e.url, required: true, size: "44" });
    const description = h("input", { name: "description", value: e.description ?? "", maxlength: "500" });
    const types = h("input", { name: "event_types", value: e.event_types.join(", ") });
    const save = (ev: Event) => {
      ev.preventDefault();
      void shell.guard(async () => {
        await api.changeEndpoint(id, {
          ...(http ? { url: url.value } : { target: url.value }),
          description: description.value,
          event_types: eventTypesOf(types.value),
        });
        shell.go({ view: "endpoint", id }, "Endpoint saved.");
      });
    };
    show(
      h(
        "form",
        { class: "form panel", "data-testid": "edit-endpoint", onsubmit: save },
        h("h3", {}, "Edit"),
        url,
        description,
        types,
        h("button", { type: "submit" }, "Save"),
      ),
    );
  };
  const rotate = () => {
    const grace = h("input", { name: "grace_period", value: "24h", size: "6" });
    const go = () =>
      shell.guard(async () => {
        const r = await api.rotateSecret(id, grace.value);
        show(
          secretBox(
            "New signing secret",
            r.secret,
            `Shown this once: copy it now. The previous secret keeps signing too until ${when(r.previous_secrets_expire_at)}.`,
          ),
        );
      });
    show(
      h(
        "div",
        { class: "panel" },
        h("h3", {}, "Rotate the signing secret"),
        h("label", {}, "The old secret keeps signing for ", grace),
        h("button", { onclick: () => void go() }, "Rotate"),
      ),
    );
  };
  const remove = (ev: Event) => {
    const button = ev.currentTarget as HTMLButtonElement;
    if (button.dataset.armed !== "1") {
      button.dataset.armed = "1";
      button.textContent = "Delete for good?";
      return;
    }
    void shell.guard(async () => {
      await api.deleteEndpoint(id);
      shell.go({ view: "endpoints" }, "Endpoint deleted.");
    });
  };
  const skip = (k: OrderingKey) =>
    void shell.guard(async () => {
      const r = await api.skipOrderingKey(id, k.ordering_key);
      shell.go(
        { view: "endpoint", id },
        `Skipped ${r.skipped_event_id} in key ${r.ordering_key}${r.next_event_id ? `: ${r.next_event_id} is sent now` : ""}.`,
      );
    });
  const test = testEvent(shell, id);
  const actions = shell.readOnly
    ? null
    : h(
        "div",
        { class: "toolbar actions", "data-testid": "endpoint-actions" },
        test.button,
        h("button", { class: "quiet", onclick: edit }, "Edit"),
        h(
          "button",
          { class: "quiet", "data-testid": "edit-filter", onclick: () => show(filterPanel(shell, e)) },
          "Filter…",
        ),
        h("button", { class: "quiet", onclick: () => void toggle() }, e.enabled ? "Disable" : "Enable"),
        h("button", { class: "quiet", onclick: rotate }, "Rotate secret"),
        h(
          "button",
          {
            class: "quiet",
            onclick: () => show(recoverPanel(shell, id, earliest ?? new Date(Date.now() - 86_400_000).toISOString())),
          },
          "Recover…",
        ),
        h("button", { class: "quiet danger", onclick: remove }, "Delete"),
      );
  if (route.recoverSince && !shell.readOnly) show(recoverPanel(shell, id, route.recoverSince));
  return h(
    "section",
    { "data-testid": "portal-endpoint", "data-endpoint-id": id },
    h(
      "div",
      { class: "toolbar" },
      h("button", { class: "quiet", onclick: () => shell.go({ view: "endpoints" }) }, "← Endpoints"),
      h("h2", { class: "mono" }, e.url),
      badge(e.enabled ? "ENABLED" : "DISABLED"),
    ),
    route.secret
      ? secretBox(
          "Signing secret",
          route.secret,
          "Shown this once: copy it now. Verify each webhook's signature with it (docs: Receiving webhooks).",
        )
      : null,
    h(
      "p",
      {},
      `${e.description ? `${e.description} · ` : ""}events: ${e.event_types.join(", ") || "every event"}${e.filter ? " · filtered on the payload" : ""} · created ${when(e.created_at)}`,
      e.enabled ? "" : ` · disabled ${when(e.disabled_at)}: ${e.disabled_reason ?? ""}`,
    ),
    destinationPanel(e),
    h(
      "div",
      { class: "health" },
      h(
        "div",
        { class: "cards" },
        health("Last hour", stats.last_hour, "health-hour"),
        health("Last day", stats.last_day, "health-day"),
      ),
      dayChart(stats),
    ),
    actions,
    test.result,
    panels,
    h(
      "section",
      { "data-testid": "endpoint-ordering-keys" },
      h("h3", {}, "Ordering keys"),
      waitingKeysPanel(keys, {
        openEvent: (eventId) => shell.go({ view: "event", id: eventId }),
        skip: shell.readOnly ? undefined : skip,
      }),
    ),
  );
}
