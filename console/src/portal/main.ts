/**
 * The tenant portal: one tenant's endpoints (create, edit, disable and enable, delete, rotate the secret, health
 * and a 24-hour chart, a test event, recover what was missed) and its recent events (by type and status, each with
 * its payload and attempt log, retry), and the event catalog (each type's schema and examples, sent to an endpoint
 * on request, and the catalog as an OpenAPI document). Opened by a link with a portal session token in its fragment; every call is
 * the same /v1 call a tenant's key makes, with that token.
 */
import "../style.css";
import { h, when } from "../shared/dom.ts";
import { ApiError } from "../shared/http.ts";
import * as api from "./api.ts";
import { catalogPage } from "./catalog.ts";
import { endpointDetail } from "./endpoint-detail.ts";
import { endpointList } from "./endpoint-list.ts";
import { eventDetail, eventList } from "./events.ts";
import * as session from "./session.ts";
import type { Route, Shell } from "./shell.ts";

const root = document.querySelector<HTMLDivElement>("#app")!;
let route: Route = { view: "endpoints" };
const status = h("p", { class: "notice", role: "status", "data-testid": "status" });

function ended(why: string): void {
  session.end();
  root.replaceChildren(
    h(
      "section",
      { class: "login", "data-testid": "session-ended" },
      h("h1", {}, "Webhooks"),
      h("p", { class: "error", role: "alert" }, why),
      h("p", {}, "Ask for a new link where you found this one."),
    ),
  );
}

const shell: Shell = {
  get readOnly() {
    return session.current().readOnly;
  },
  go(next, notice = "") {
    route = next;
    void render(notice);
  },
  say(text, kind = "ok") {
    status.textContent = text;
    status.className = `notice ${kind === "error" ? "error" : ""}`;
  },
  async guard(work) {
    try {
      await work();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) ended("This link has expired or is not valid.");
      else shell.say(`Error: ${err instanceof Error ? err.message : String(err)}`, "error");
    }
  },
};

async function body(): Promise<HTMLElement> {
  switch (route.view) {
    case "endpoints":
      return endpointList(shell);
    case "endpoint":
      return endpointDetail(shell, route);
    case "events":
      return eventList(shell);
    case "event":
      return eventDetail(shell, route.id);
    case "catalog":
      return catalogPage(shell);
  }
}

/** The tenant's name and retention, read once: the header names whose portal this is, not only its id. */
let tenantName: Promise<{ name: string; retentionDays: number }> | undefined;

async function render(notice: string): Promise<void> {
  await shell.guard(async () => {
    tenantName ??= api.tenant().then(
      (t) => ({ name: t.name, retentionDays: t.retention_days }),
      (err: unknown) => {
        tenantName = undefined;
        throw err;
      },
    );
    const [main, { name, retentionDays }] = await Promise.all([body(), tenantName]);
    const claims = session.current();
    const tab = (view: "endpoints" | "events" | "catalog", label: string) =>
      h(
        "button",
        {
          class: route.view === view || route.view === view.slice(0, -1) ? "tab active" : "tab",
          "data-view": view,
          onclick: () => shell.go({ view }),
        },
        label,
      );
    root.replaceChildren(
      h(
        "header",
        {},
        h("h1", {}, "Webhooks"),
        h("strong", { "data-testid": "tenant-name" }, name),
        h("span", { class: "mono", "data-testid": "tenant" }, claims.tenantId),
        h("small", { "data-testid": "retention" }, `data kept ${retentionDays} days`),
        claims.readOnly ? h("span", { class: "badge", "data-testid": "read-only" }, "read-only") : null,
        claims.expiresAt
          ? h("small", {}, `this link works until ${when(new Date(claims.expiresAt).toISOString())}`)
          : null,
      ),
      h("nav", {}, tab("endpoints", "Endpoints"), tab("events", "Events"), tab("catalog", "Event catalog")),
      status,
      h("main", {}, main),
    );
    shell.say(notice);
  });
}

if (session.takeToken()) void render("");
else ended("This page opens from a link made for you: it carries the session in its address.");
