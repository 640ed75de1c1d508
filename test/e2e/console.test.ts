/**
 * The operator console in headless Chromium (Debian's package, driven by playwright-core) against the real
 * API on loopback, the emulators and a worker: sign in, see the charts drawn from what was delivered, see a dead
 * delivery, requeue it, see it delivered and its timeline; see an endpoint's disable reason and re-enable it; the
 * token is nowhere but memory.
 * `UPDATE_SCREENSHOTS=1 npm run test:e2e` refreshes the README's pictures in docs/images/.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { openBrowser, type BrowserRig } from "../support/browser.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let rig: BrowserRig;
let page: Page;
let base: string;
let tenant: CreatedTenant;
let eventId: string;
const screenshots = process.env.UPDATE_SCREENSHOTS === "1";
/** The little of a canvas element the chart check reads (this file is compiled without the DOM's types). */
type Canvas = {
  width: number;
  height: number;
  getContext(
    kind: "2d",
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
};

const admin = () => `Bearer ${stack.adminToken}`;
const shot = async (name: string, fullPage = true) => {
  if (screenshots) await page.screenshot({ path: `docs/images/${name}.png`, fullPage });
};

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "100ms,100ms" });
  receiver = await startReceiver();
  receiver.behave(() => ({ status: 503, body: '{"error":"maintenance until 14:00"}' }));
  tenant = await stack.createTenant([
    { url: receiver.url },
    { url: `${receiver.url}?second`, event_types: ["never.sent"] },
  ]);
  await stack.http
    .patch(`/admin/tenants/${tenant.tenantId}/endpoints/${tenant.endpoints[1]!.endpointId}`)
    .set("authorization", admin())
    .send({ enabled: false });
  stack.startWorker();
  const { body } = await postEvent(stack, tenant.apiKey, {
    type: "order.paid",
    order: { id: "ord_1042", amount: 4200 },
  });
  eventId = body.event_id as string;
  await eventually(
    async () => ((await stack.http.get("/admin/dlq").set("authorization", admin())).body.count as number) === 1,
    {
      what: "the delivery dead-lettered",
    },
  );
  receiver.behave(() => ({ status: 200, body: "ok" }));
  // A few delivered events beside the dead one, as a console usually sees them.
  const delivered = [];
  for (const type of ["customer.created", "invoice.finalized", "order.shipped"]) {
    delivered.push((await postEvent(stack, tenant.apiKey, { type })).body.event_id as string);
  }
  await eventually(
    async () => {
      const res = await stack.http
        .get(`/admin/tenants/${tenant.tenantId}/events?status=DELIVERED`)
        .set("authorization", admin());
      return (res.body.data as unknown[]).length === delivered.length;
    },
    { what: "the other events delivered" },
  );
  rig = await openBrowser(stack);
  base = rig.base;
  page = await rig.context.newPage();
}, 60_000);

afterAll(async () => {
  await rig.close();
  await stack.close();
  await receiver.close();
});

describe("operator console", () => {
  it("refuses a wrong token", async () => {
    await page.goto(`${base}/console/`);
    await page.fill("input[name=token]", "not-the-token");
    await page.click("button[type=submit]");
    await page.getByText("That token was refused.").waitFor();
  });

  it("signs in and shows the queue and DLQ depth", async () => {
    await page.fill("input[name=token]", stack.adminToken);
    await page.click("button[type=submit]");
    await page.getByTestId("dlq-depth").getByText("1 message").waitFor();
    await page.getByTestId("events").locator(`tr[data-event-id="${eventId}"]`).waitFor();
    await shot("console-events");
  });

  it("draws the charts of the last hour and day with what the worker delivered", async () => {
    const charts = page.getByTestId("charts");
    // One event died after 3 attempts, three were delivered at once: the worker's per-minute figures say so.
    await charts.getByTestId("chart-deliveries").getByText("3 delivered · 3 failed").waitFor();
    await charts.getByTestId("chart-dlq").getByText("now 1").waitFor();
    for (const id of ["chart-deliveries", "chart-latency", "chart-queue", "chart-dlq"]) {
      const chart = charts.getByTestId(id);
      expect(Number(await chart.getAttribute("data-points")), id).toBeGreaterThan(0);
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
      expect(coloured, id).toBeGreaterThan(10);
    }
    // In ms, or in seconds on a busy machine.
    expect(await charts.getByTestId("chart-latency").locator("small").textContent()).toMatch(
      /p95 now (\d+ ms|\d+\.\d s)/,
    );
    if (screenshots) await charts.screenshot({ path: "docs/images/console-charts.png" });
    await charts.getByRole("button", { name: "Last day" }).click();
    await page.getByTestId("charts").getByRole("button", { name: "Last day" }).and(page.locator(".active")).waitFor();
    await page.getByTestId("chart-deliveries").getByText("per 10 minutes").waitFor();
    await page.getByTestId("chart-deliveries").getByText("3 delivered · 3 failed").waitFor();
  });

  it("shows the dead delivery, requeues it, and shows it delivered", async () => {
    await page.click("[data-view=dlq]");
    const row = page.getByTestId("dlq").locator(`tr[data-event-id="${eventId}"]`);
    await row.getByText("DEAD").waitFor();
    expect(await row.textContent()).toContain("503");
    await shot("console-dlq");
    await page.getByRole("button", { name: "Dry run" }).click();
    await page.getByText("Dry run: would move 1").waitFor();
    expect(receiver.requests.length).toBe(6);
    await page.getByRole("button", { name: "Requeue", exact: true }).click();
    await page.getByText("Requeued 1").waitFor();
    await eventually(() => receiver.requests.length === 7, { what: "the requeued delivery POSTed" });

    await page.click("[data-view=events]");
    await page.getByTestId("events").locator(`tr[data-event-id="${eventId}"]`).click();
    const detail = page.getByTestId("event-detail");
    await eventually(
      async () => {
        await page.getByRole("button", { name: "Refresh" }).click();
        return (await detail.locator(".delivery .badge").first().textContent()) === "DELIVERED";
      },
      { what: "the console showing DELIVERED" },
    );
    const log = await detail.locator(".delivery").first().textContent();
    expect(log).toContain("maintenance until 14:00");
    // The whole story: three refused attempts, then the requeued one, numbered on.
    const attempts = await detail.locator(".delivery").first().locator("tbody tr").allTextContents();
    expect(attempts.map((row) => row.slice(0, 1))).toEqual(["1", "2", "3", "4"]);
    expect(attempts[3]).toContain("200");
    // The timeline: accepted, the four attempts, delivered.
    const steps = await detail
      .locator(".delivery")
      .first()
      .getByTestId("timeline")
      .locator("li strong")
      .allTextContents();
    expect(steps).toEqual(["Accepted", "#1 · 503", "#2 · 503", "#3 · 503", "#4 · 200", "Delivered"]);
    await shot("console-event");
  });

  it("shows an endpoint's disable reason and re-enables it", async () => {
    const second = tenant.endpoints[1]!.endpointId;
    await page.click("[data-view=endpoints]");
    const row = page.getByTestId("endpoints").locator(`tr[data-endpoint-id="${second}"]`);
    await row.getByText("disabled by request").waitFor();
    await row.getByRole("button", { name: "Re-enable" }).click();
    await page.getByText(`Endpoint ${second} re-enabled.`).waitFor();
    const res = await stack.http
      .get(`/admin/tenants/${tenant.tenantId}/endpoints/${second}`)
      .set("authorization", admin());
    expect(res.body.enabled).toBe(true);
  });

  it("keeps the token in memory only: no storage, no cookie, a reload signs out", async () => {
    const stored = await page.evaluate(
      "({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })",
    );
    expect(stored).toEqual({ local: 0, session: 0, cookie: "" });
    expect((await page.context().cookies()).length).toBe(0);
    await page.reload();
    await page.locator("input[name=token]").waitFor();
  });

  it("renders the API docs page (Swagger UI under the same CSP, no CDN)", async () => {
    const refused: string[] = [];
    page.on("console", (m) => m.type() === "error" && refused.push(m.text()));
    page.on("requestfailed", (r) => refused.push(r.url()));
    await page.goto(`${base}/docs`);
    await page.locator(".opblock-summary-path", { hasText: "/admin/dlq/requeue" }).first().waitFor();
    expect(await page.locator(".opblock").count()).toBeGreaterThan(30);
    expect(refused).toEqual([]);
    await shot("api-docs", false);
  });
});
