/**
 * The tenant portal in headless Chromium (Debian's package, driven by playwright-core) against the real API on
 * loopback, the emulators and a worker: an operator mints a link for tenant A; the page shows A's endpoints and
 * nothing of B's; a new endpoint's secret is shown once, a test event is delivered and its attempt shown; an endpoint
 * disabled while three events come, then enabled and recovered, gets the three once each; the health chart draws; a
 * read-only link shows no write buttons and its writes are refused; an expired or altered link is refused; the token
 * is in no storage, cookie, request or log line. `UPDATE_SCREENSHOTS=1 npm run test:e2e` refreshes the README's
 * pictures in docs/images/.
 */
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually, stays } from "../support/eventually.ts";
import { captureLogs } from "../support/log-capture.ts";
import { openBrowser, type BrowserRig } from "../support/browser.ts";
import { startReceiver, verifyWithIndependentLibraries, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let rig: BrowserRig;
let context: BrowserContext;
let page: Page;
let base: string;
let a: CreatedTenant;
let b: CreatedTenant;
/** The endpoint tenant A adds in the portal. */
let added: string;
const { logger, lines } = captureLogs("info");
const tokens: string[] = [];
const requested: string[] = [];
const browserErrors: string[] = [];
const screenshots = process.env.UPDATE_SCREENSHOTS === "1";
/** Events typed order.broken fail until the test lets them through. */
let broken = true;
/** The little of a canvas element the chart check reads (this file is compiled without the DOM's types). */
type Canvas = {
  width: number;
  height: number;
  getContext(
    kind: "2d",
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
};

const shot = async (name: string) => {
  if (screenshots) await page.screenshot({ path: `docs/images/${name}.png`, fullPage: true });
};

/** A portal link for `tenantId`, minted by the operator over real HTTP (so it names this server's origin). */
async function mint(tenantId: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${base}/admin/tenants/${tenantId}/portal-sessions`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  const { url } = (await res.json()) as { url: string };
  tokens.push(/#token=(\S+)$/.exec(url)![1]!);
  return url;
}

/** Opens a link in a fresh page (the portal reads its token once, when the page loads). */
async function open(url: string): Promise<Page> {
  const p = await context.newPage();
  p.on("request", (r) => requested.push(`${r.url()} ${JSON.stringify(r.headers())}`));
  p.on("console", (m) => m.type() === "error" && browserErrors.push(m.text()));
  p.on("requestfailed", (r) => browserErrors.push(`${r.url()} failed`));
  await p.goto(url);
  return p;
}

beforeAll(async () => {
  stack = await startStack(
    { RETRY_SCHEDULE: "100ms,100ms", PORTAL_FRAME_ANCESTORS: "https://app.example.com" },
    { logger },
  );
  receiver = await startReceiver();
  receiver.behave((req) =>
    broken && req.body.toString().includes("order.broken")
      ? { status: 500, body: "not today" }
      : { status: 200, body: "ok" },
  );
  a = await stack.createTenant([{ url: `${receiver.url}?invoices`, event_types: ["invoice.*"] }]);
  b = await stack.createTenant([{ url: `${receiver.url}?tenant-b` }]);
  stack.startWorker();
  for (const type of ["invoice.created", "invoice.paid"])
    await postEvent(stack, a.apiKey, { type, invoice: { id: "inv_204", amount: 12_900 } });
  rig = await openBrowser(stack);
  base = rig.base;
  context = rig.context;
}, 60_000);

afterAll(async () => {
  await rig.close();
  await stack.close();
  await receiver.close();
});

describe("tenant portal", () => {
  it("opens from the operator's link with tenant A's endpoints and nothing of tenant B's, the token gone from the address", async () => {
    const url = await mint(a.tenantId);
    expect(url.startsWith(`${base}/portal/#token=wps_`)).toBe(true);
    page = await open(url);
    await page
      .getByTestId("portal-endpoints")
      .locator(`tr[data-endpoint-id="${a.endpoints[0]!.endpointId}"]`)
      .waitFor();
    expect(await page.getByTestId("tenant").textContent()).toBe(a.tenantId);
    const content = await page.content();
    for (const other of [b.tenantId, b.endpoints[0]!.endpointId, "tenant-b"]) expect(content).not.toContain(other);
    expect(page.url()).toBe(`${base}/portal/`);
  });

  it("adds an endpoint, shows its secret once, and shows a test event delivered with its attempt", async () => {
    const form = page.getByTestId("create-endpoint");
    await form.locator("input[name=url]").fill(`${receiver.url}?orders`);
    await form.locator("input[name=description]").fill("Order updates");
    await form.locator("input[name=event_types]").fill("order.*");
    await form.getByRole("button", { name: "Add endpoint" }).click();
    const detail = page.getByTestId("portal-endpoint");
    const secret = (await detail.getByTestId("new-secret").locator("code").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    added = (await detail.getAttribute("data-endpoint-id"))!;

    await detail.getByRole("button", { name: "Send test event" }).click();
    const result = page.getByTestId("test-result");
    await result.and(page.locator("[data-status=DELIVERED]")).waitFor({ timeout: 15_000 });
    expect(await result.textContent()).toMatch(/DELIVERED HTTP 200 in \d+ ms/);
    expect(await result.locator("tbody tr").count()).toBe(1);
    // Signed with the secret the page showed, as a receiver verifies it.
    const test = receiver.requests.find(
      (r) => r.url.endsWith("?orders") && r.body.toString().includes("webhook.test"),
    )!;
    verifyWithIndependentLibraries(test, secret);
    await shot("portal-endpoint-new");

    // Shown once: back to the list and to the endpoint again, no secret.
    await page.getByRole("button", { name: "← Endpoints" }).click();
    await page.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${added}"]`).click();
    await page.getByTestId("portal-endpoint").getByTestId("health-hour").waitFor();
    expect(await page.getByTestId("new-secret").count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
  });

  it("disables the endpoint, then enables it and recovers the three events it missed: each arrives once", async () => {
    const detail = page.getByTestId("portal-endpoint");
    await detail.getByRole("button", { name: "Disable" }).click();
    await page.getByTestId("portal-endpoint").locator(".badge", { hasText: "DISABLED" }).waitFor();
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++)
      ids.push(
        (await postEvent(stack, a.apiKey, { type: "order.created", order: { id: `ord_${i}` } })).body
          .event_id as string,
      );
    for (const id of ids)
      expect((await getEvent(stack, a.apiKey, id)).deliveries).toEqual([
        expect.objectContaining({ endpoint_id: added, status: "SKIPPED" }),
      ]);
    const sent = () =>
      receiver.requests.filter((r) => r.url.endsWith("?orders") && r.body.toString().includes("order.created"));
    expect(sent()).toHaveLength(0);

    await page.getByTestId("portal-endpoint").getByRole("button", { name: "Enable" }).click();
    const recover = page.getByTestId("recover");
    await recover.waitFor();
    await recover.getByRole("button", { name: "Count what it missed" }).click();
    await recover.getByText("3 deliveries died or were skipped in that time.").waitFor();
    await shot("portal-recover");
    expect(sent()).toHaveLength(0);
    await recover.getByRole("button", { name: "Send them again" }).click();
    await recover.getByText("Sent again: 3 deliveries.").waitFor();
    await eventually(() => sent().length === 3, { what: "the three recovered deliveries" });
    await stays(() => sent().length === 3, { forMs: 1000, what: "each once" });
    expect(
      sent()
        .map((r) => (JSON.parse(r.body.toString()) as { order: { id: string } }).order.id)
        .sort(),
    ).toEqual(["ord_1", "ord_2", "ord_3"]);
  });

  it("shows the endpoint's health as numbers and a chart drawn from what was delivered", async () => {
    // Four attempts so far (the test event and the three recovered), all delivered; the worker adds them within 10 s.
    await eventually(
      async () => {
        await page.getByRole("button", { name: "← Endpoints" }).click();
        await page.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${added}"]`).click();
        return (await page.getByTestId("health-hour").textContent())?.includes("4 attempts · 100% delivered");
      },
      { what: "the health figures", intervalMs: 300 },
    );
    expect(await page.getByTestId("health-day").textContent()).toMatch(
      /4 attempts · 100% delivered0 failed · p50 \d+ ms · p95 \d+ ms/,
    );
    const chart = page.getByTestId("chart-endpoint");
    expect(await chart.locator("small").textContent()).toBe("4 delivered · 0 failed");
    expect(Number(await chart.getAttribute("data-points"))).toBe(48);
    // Drawn, not just laid out: the canvas has coloured pixels (a series; axes and grid are grey).
    const coloured = await chart.locator("canvas").evaluate((c: Canvas) => {
      const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (
          data[i + 3]! > 0 &&
          Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) > 60
        )
          n++;
      return n;
    });
    expect(coloured).toBeGreaterThan(10);
    await shot("portal-endpoint");
  });

  it("browses events by type and status, shows one's payload and attempts, and retries one that died", async () => {
    const brokenId = (await postEvent(stack, a.apiKey, { type: "order.broken", order: { id: "ord_9" } })).body
      .event_id as string;
    await eventually(async () => (await getEvent(stack, a.apiKey, brokenId)).status === "DEAD", {
      what: "the broken event dead",
    });
    await page.getByRole("button", { name: "← Endpoints" }).click();
    await page.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${added}"]`).waitFor();
    await shot("portal-endpoints");
    await page.click("[data-view=events]");
    const events = page.getByTestId("portal-events");
    await events.locator("input[name=type]").fill("order.created");
    await events.getByRole("button", { name: "Filter" }).click();
    await eventually(async () => (await page.getByTestId("portal-events").locator("tbody tr").count()) === 3, {
      what: "three order.created events",
    });
    await page.getByTestId("portal-events").locator("input[name=type]").fill("");
    await page.getByTestId("portal-events").locator("select[name=status]").selectOption("DEAD");
    await page.getByTestId("portal-events").getByRole("button", { name: "Filter" }).click();
    await page.getByTestId("portal-events").locator(`tr[data-event-id="${brokenId}"]`).click();
    const detail = page.getByTestId("portal-event");
    expect(await detail.locator("pre").textContent()).toContain('"ord_9"');
    expect(await detail.locator(".delivery tbody tr").allTextContents()).toHaveLength(3);
    expect(await detail.locator(".delivery").textContent()).toContain("not today");
    await shot("portal-event");
    broken = false;
    await detail.getByRole("button", { name: "Retry what died or was skipped" }).click();
    await page.getByText("Sent again to 1 endpoint.").waitFor();
    await eventually(async () => (await getEvent(stack, a.apiKey, brokenId)).status === "DELIVERED", {
      what: "the retried event delivered",
    });
  });

  it("shows the event catalog, sends a type's example to an endpoint, and tries a filter on the last 20 events before saving it", async () => {
    const example = { type: "order.paid", data: { order_id: "ord_example", amount: 4200, currency: "EUR" } };
    const put = await fetch(`${base}/v1/event-types/order.paid`, {
      method: "PUT",
      headers: { authorization: `Bearer ${a.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        description: "An order was paid",
        schema: {
          type: "object",
          required: ["type", "data"],
          properties: {
            data: {
              type: "object",
              required: ["order_id", "amount"],
              properties: {
                order_id: { type: "string" },
                amount: { type: "integer" },
                currency: { enum: ["EUR", "USD"] },
              },
            },
          },
        },
        examples: [example],
      }),
    });
    expect(put.status).toBe(201);
    await page.locator("button[data-view=catalog]").click();
    const entry = page.getByTestId("portal-catalog").locator('article[data-name="order.paid"]');
    await entry.waitFor();
    expect(await entry.textContent()).toContain("ord_example");
    await entry.locator("select[name=endpoint]").selectOption(added);
    await entry.getByTestId("send-example").click();
    await entry.getByTestId("example-result").getByText(/^evt_/).waitFor();
    await eventually(
      () => receiver.requests.some((r) => r.url.endsWith("?orders") && r.body.toString().includes("ord_example")),
      { what: "the example delivered" },
    );
    await shot("portal-catalog");

    await page.locator("button[data-view=endpoints]").click();
    await page.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${added}"]`).click();
    await page.getByTestId("edit-filter").click();
    const panel = page.getByTestId("filter-panel");
    await panel.locator("textarea").fill('{"data": {"amount": {"$gtt": 100}}}');
    await panel.getByTestId("save-filter").click();
    await page.getByTestId("status").getByText("/data/amount/$gtt").waitFor();
    await panel.locator("textarea").fill('{"data": {"amount": {"$gt": 100}}}');
    await panel.getByTestId("try-filter").click();
    await panel
      .getByTestId("filter-test")
      .getByText(/of the newest \d+ events would be delivered/)
      .waitFor();
    expect(await panel.locator("tr[data-matches=true]").count()).toBeGreaterThan(0);
    await shot("portal-filter");
    await panel.getByTestId("save-filter").click();
    await page.getByText("Filter saved.").waitFor();
    const small = await postEvent(stack, a.apiKey, { type: "order.paid", data: { order_id: "ord_small", amount: 5 } });
    expect((await getEvent(stack, a.apiKey, small.body.event_id)).filtered_endpoints).toEqual([added]);
  });

  it("with a read-only link: no write buttons, and the API refuses the writes", async () => {
    const url = await mint(a.tenantId, { read_only: true });
    const readOnly = await open(url);
    await readOnly.getByTestId("read-only").waitFor();
    await readOnly.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${added}"]`).click();
    await readOnly.getByTestId("health-hour").waitFor();
    expect(await readOnly.getByTestId("endpoint-actions").count()).toBe(0);
    expect(await readOnly.getByRole("button", { name: "Rotate secret" }).count()).toBe(0);
    await readOnly.getByRole("button", { name: "← Endpoints" }).click();
    await readOnly.getByTestId("portal-endpoints").waitFor();
    expect(await readOnly.getByTestId("create-endpoint").count()).toBe(0);
    const token = /#token=(\S+)$/.exec(url)![1]!;
    const write = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await write("/v1/endpoints", { url: `${receiver.url}?sneaky` })).status).toBe(403);
    expect((await write(`/v1/endpoints/${added}/rotate-secret`, {})).status).toBe(403);
    await readOnly.close();
  });

  it("refuses an expired or an altered link", async () => {
    const short = await mint(a.tenantId, { expires_in: "1s" });
    const token = /#token=(\S+)$/.exec(short)![1]!;
    await eventually(
      async () =>
        (await fetch(`${base}/v1/endpoints`, { headers: { authorization: `Bearer ${token}` } })).status === 401,
      { what: "the link to expire", timeoutMs: 5000 },
    );
    const expired = await open(short);
    await expired.getByTestId("session-ended").getByText("This link has expired or is not valid.").waitFor();
    await expired.close();
    const valid = await mint(a.tenantId);
    const altered = await open(`${valid.slice(0, -4)}AAAA`);
    await altered.getByTestId("session-ended").getByText("This link has expired or is not valid.").waitFor();
    await altered.close();
  });

  it("keeps the token in memory only: no storage, cookie, request URL or log line holds it", async () => {
    const stored = await page.evaluate(
      "({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie, href: location.href })",
    );
    expect(stored).toEqual({ local: 0, session: 0, cookie: "", href: `${base}/portal/` });
    expect((await context.cookies()).length).toBe(0);
    expect(tokens.length).toBeGreaterThanOrEqual(4);
    // Sent as the Authorization header only: never in a URL, a Referer or anything else the browser sent but that.
    const urls = requested.map((r) => r.replace(/"authorization":"Bearer [^"]+"/, ""));
    for (const token of tokens) for (const r of urls) expect(r).not.toContain(token.slice(4, 40));
    const log = lines.join("\n");
    expect(log).toContain('"path":"/portal/"');
    for (const token of tokens) expect(log).not.toContain(token.slice(4, 40));
    // A reload has no link to read: the session is gone.
    await page.reload();
    await page.getByTestId("session-ended").waitFor();
  });

  it("runs under the API's CSP with nothing refused, framable by the configured origin only, and the console is not", async () => {
    // 401: the expired and altered links; 422: the bad filter the catalog test saves on purpose.
    expect(browserErrors.filter((e) => !e.includes("401") && !e.includes("422"))).toEqual([]);
    const portal = await fetch(`${base}/portal/`);
    expect(portal.headers.get("content-security-policy")).toContain("frame-ancestors 'self' https://app.example.com");
    expect(portal.headers.get("x-frame-options")).toBeNull();
    const consolePage = await fetch(`${base}/console/`);
    expect(consolePage.headers.get("content-security-policy")).toContain("frame-ancestors 'self'");
    expect(consolePage.headers.get("content-security-policy")).not.toContain("app.example.com");
    expect(consolePage.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    // The portal's own page, not the console's, is all /portal serves.
    expect((await fetch(`${base}/portal/index.html`)).status).toBe(404);
    expect((await fetch(`${base}/portal`, { redirect: "manual" })).headers.get("location")).toBe("/portal/");
  });
});
