/**
 * Ordered delivery as people see it (issue 24, "Visible"), in headless Chromium against the real API, the emulators
 * and a worker: an endpoint that blocks on dead, whose receiver refuses a key's first event, holds the second behind
 * it. The console lists the blocked key (how many, the oldest, why) with a link to its head, and the second event's
 * delivery says where it waits and for what; the portal shows the same, offers "Skip head" only to a writable
 * session, and once skipped the second event is delivered and says whom it waited for and how long. The key is
 * markup and stays text everywhere.
 */
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueDeliveries } from "../../services/aws/delivery-queue.ts";
import { postEvent } from "../support/api.ts";
import { eventually } from "../support/eventually.ts";
import { openBrowser, type BrowserRig } from "../support/browser.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;
let rig: BrowserRig;
let context: BrowserContext;
let tenant: CreatedTenant;
let endpointId: string;
/** The key's first event (dies, then blocks) and second (waits behind it). */
let head: string;
let next: string;
/** A valid key (printable ASCII) that would run script if any view took it as HTML. */
const key = `order:<img src=x onerror="document.title='owned'">`;
const pageErrors: string[] = [];

interface Delivery {
  endpoint_id: string;
  status: string;
  dead_at?: string;
  ordering?: { position: number | null; waiting_for: string | null; waited_for: string | null };
}
interface EventView {
  created_at: string;
  deliveries: Delivery[];
}

const eventOf = async (eventId: string) =>
  (await stack.http.get(`/v1/events/${eventId}`).set("authorization", `Bearer ${tenant.apiKey}`)).body as EventView;
const deliveryTo = async (eventId: string) =>
  (await eventOf(eventId)).deliveries.find((d) => d.endpoint_id === endpointId)!;

async function newPage(url: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("dialog", (d) => void d.dismiss().then(() => pageErrors.push(`dialog: ${d.message()}`)));
  await page.goto(url);
  return page;
}

/** Nothing the API answered was taken as markup: no element made of the key, no script run from it. */
async function expectKeyInert(page: Page): Promise<void> {
  expect(await page.locator("img").count()).toBe(0);
  expect(await page.title()).not.toBe("owned");
}

async function mint(readOnly: boolean): Promise<string> {
  const res = await stack.http
    .post(`/admin/tenants/${tenant.tenantId}/portal-sessions`)
    .set("authorization", `Bearer ${stack.adminToken}`)
    .send({ read_only: readOnly });
  expect(res.status).toBe(201);
  return (res.body.url as string).replace(/^https?:\/\/[^/]+/, rig.base);
}

/** "Waited for <head> (<duration>)": the duration in ms as the page rounds it. */
function waitedMs(note: string | null): number {
  const m = new RegExp(`^Waited for ${head} \\((\\d+(?:\\.\\d)?) (ms|s|min)\\)$`).exec(note ?? "");
  expect(m, String(note)).not.toBeNull();
  return Number(m![1]) * { ms: 1, s: 1000, min: 60_000 }[m![2] as "ms" | "s" | "min"];
}

beforeAll(async () => {
  stack = await startStack({ RETRY_SCHEDULE: "100ms,100ms" });
  receiver = await startReceiver();
  receiver.behave((req) =>
    (JSON.parse(req.body.toString("utf8")) as { n: number }).n === 0
      ? { status: 500, body: "not this one" }
      : { status: 200, body: "ok" },
  );
  tenant = await stack.createTenant([{ url: receiver.url }]);
  endpointId = tenant.endpoints[0]!.endpointId;
  const patched = await stack.http
    .patch(`/v1/endpoints/${endpointId}`)
    .set("authorization", `Bearer ${tenant.apiKey}`)
    .send({ ordering: "block_on_dead" });
  expect(patched.status).toBe(200);
  stack.startWorker();
  const post = async (n: number) =>
    (await postEvent(stack, tenant.apiKey, { type: "order.updated", n }, { "ordering-key": key })).body
      .event_id as string;
  head = await post(0);
  next = await post(1);
  await eventually(async () => (await deliveryTo(head)).status === "DEAD", { what: "the head dead" });
  // A second message for the waiting delivery (as a redelivery or the sweeper sends): the worker finds it is not its
  // turn and records whom it waits for. (Acceptance sends none to a delivery behind an earlier one.)
  const copy = { tenantId: tenant.tenantId, eventId: next, endpointId, orderingKey: key };
  expect(await enqueueDeliveries(stack.queue, [copy])).toEqual([]);
  await eventually(async () => (await deliveryTo(next)).ordering?.waited_for === head, {
    what: "the second parked behind the first",
  });
  rig = await openBrowser(stack);
  context = rig.context;
}, 60_000);

afterAll(async () => {
  await rig.close();
  await stack.close();
  await receiver.close();
});

describe("ordering keys in the console", () => {
  let page: Page;

  it("lists the endpoint's blocked key: how many, the oldest, why, and its head", async () => {
    page = await newPage(`${rig.base}/console/`);
    await page.fill("input[name=token]", stack.adminToken);
    await page.click("button[type=submit]");
    await page.click("[data-view=endpoints]");
    await page
      .getByTestId("endpoints")
      .locator(`tr[data-endpoint-id="${endpointId}"]`)
      .getByRole("button", { name: "Ordering keys" })
      .click();
    const panel = page.getByTestId("endpoint-ordering-keys");
    await panel.waitFor();
    expect(await panel.getAttribute("data-endpoint-id")).toBe(endpointId);
    expect(await panel.getByTestId("ordering-keys-summary").textContent()).toMatch(
      new RegExp(`^1 key with events waiting \\(1 dead\\); the oldest, ${literal(key)}, since .+: its head died`),
    );
    const row = panel.locator("tbody tr");
    expect(await row.count()).toBe(1);
    expect(await row.locator("td").allTextContents()).toEqual([key, "2", "dead", head, expect.any(String)]);
    expect(await row.getAttribute("data-ordering-key")).toBe(key);
    // Operators read; skipping is the tenant's call (or the API's).
    expect(await panel.getByRole("button", { name: "Skip head" }).count()).toBe(0);
    await expectKeyInert(page);
  });

  it("opens the head event from the list, and the waiting event says where it waits and for what", async () => {
    await page.getByTestId("endpoint-ordering-keys").getByRole("button", { name: head }).click();
    const detail = page.getByTestId("event-detail");
    await detail.getByText(`Event ${head}`).waitFor();
    expect(await detail.getByTestId("ordering-key").textContent()).toBe(key);

    await page.click("[data-view=events]");
    await page.getByTestId("events").locator(`tr[data-event-id="${next}"]`).click();
    const note = page.getByTestId("event-detail").locator(`.delivery[data-endpoint-id="${endpointId}"]`);
    expect(await note.getByTestId("ordering").textContent()).toBe(
      `Waiting for its turn: position 1 in its key's line (1 event ahead), waiting for ${head}`,
    );
    // The event it waits for is a link.
    await note.getByTestId("ordering").getByRole("button", { name: head }).click();
    await page.getByTestId("event-detail").getByText(`Event ${head}`).waitFor();
    await expectKeyInert(page);
  });
});

describe("ordering keys in the portal", () => {
  it("shows the blocked key to a read-only session without a Skip head button", async () => {
    const page = await newPage(await mint(true));
    await page.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${endpointId}"]`).click();
    const keys = page.getByTestId("endpoint-ordering-keys");
    await keys.locator(`tr[data-ordering-key]`).waitFor();
    expect(await keys.locator("tbody tr td").allTextContents()).toEqual([key, "2", "dead", head, expect.any(String)]);
    expect(await keys.getByRole("button", { name: "Skip head" }).count()).toBe(0);
    await expectKeyInert(page);
    await page.close();
  });

  it("skips the dead head: the next event is delivered; its timeline says whom it waited for and how long", async () => {
    const page = await newPage(await mint(false));
    await page.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${endpointId}"]`).click();
    const keys = page.getByTestId("endpoint-ordering-keys");
    await keys.getByRole("button", { name: "Skip head" }).click();
    await page.getByTestId("status").getByText(`Skipped ${head} in key ${key}: ${next} is sent now.`).waitFor();
    await eventually(async () => (await deliveryTo(next)).status === "DELIVERED", { what: "the next delivered" });
    const dead = await deliveryTo(head);
    expect(dead.status).toBe("DEAD");
    // It was sent after the head died (the skip came later still): it cannot have waited less.
    const leastWaitMs = Date.parse(dead.dead_at!) - Date.parse((await eventOf(next)).created_at) - 50;

    await page.click("[data-view=events]");
    await page.getByTestId("portal-events").locator(`tr[data-event-id="${next}"]`).click();
    const event = page.getByTestId("portal-event");
    expect(await event.getByTestId("ordering-key").textContent()).toBe(key);
    const note = event.locator(`.delivery[data-endpoint-id="${endpointId}"]`).getByTestId("ordering");
    expect(waitedMs(await note.textContent())).toBeGreaterThanOrEqual(leastWaitMs);
    // Back to the endpoint: nothing waits any more.
    await page.click("[data-view=endpoints]");
    await page.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${endpointId}"]`).click();
    await page.getByTestId("endpoint-ordering-keys").getByText("No ordering key has events waiting").waitFor();
    await expectKeyInert(page);
    expect(pageErrors).toEqual([]);
  });
});

function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
