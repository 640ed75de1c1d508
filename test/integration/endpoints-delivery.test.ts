/** Secret rotation seen by receivers, and endpoints disabled by 410 or a long failure run, then re-enabled. */
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { eventually, stays } from "../support/eventually.ts";
import { startReceiver, type ReceivedRequest, type TestReceiver } from "../support/receiver.ts";
import { logger, startStack, type Stack } from "../support/stack.ts";
import { acceptEvent } from "../../services/ingestion/accept-event.ts";
import { enqueueDeliveries } from "../../services/aws/delivery-queue.ts";
import { getTenant } from "../../services/aws/tenants.ts";

let stack: Stack;
const receivers: TestReceiver[] = [];

beforeAll(async () => {
  // An eager sweeper, so a skipped delivery would get its message back if skipping did not settle it.
  stack = await startStack({
    RETRY_SCHEDULE: "300ms,300ms,300ms,300ms",
    ENDPOINT_DISABLE_AFTER: "1s",
    SWEEP_GRACE_MS: "300",
  });
  stack.startWorker();
});
afterAll(async () => {
  await stack.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver() {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

/** What a receiver that knows only `secret` concludes, with each independent library. */
function verifiesWith(req: ReceivedRequest, secret: string): boolean[] {
  const h = (n: string) => String(req.headers[n] ?? "");
  const std = (() => {
    try {
      new Webhook(secret).verify(req.body, {
        "webhook-id": h("webhook-id"),
        "webhook-timestamp": h("webhook-timestamp"),
        "webhook-signature": h("webhook-signature"),
      });
      return true;
    } catch {
      return false;
    }
  })();
  const stripe = (() => {
    try {
      Stripe.webhooks.constructEvent(req.body, h("stripe-signature"), secret, 300);
      return true;
    } catch {
      return false;
    }
  })();
  return [std, stripe];
}

const delivered = (apiKey: string, id: string) =>
  eventually(async () => (await getEvent(stack, apiKey, id)).status === "DELIVERED", { what: "delivered" });

describe("secret rotation", () => {
  it("signs with both secrets during the grace period, then with the new one only", async () => {
    const r = await receiver();
    const t = await stack.createTenant([{ url: r.url }]);
    const oldSecret = t.endpoints[0]!.secret;
    const path = `/v1/endpoints/${t.endpoints[0]!.endpointId}/rotate-secret`;
    const rotated = await stack.http.post(path).set("authorization", `Bearer ${t.apiKey}`).send({ grace_period: "4s" });
    const newSecret = rotated.body.secret as string;

    const during = await postEvent(stack, t.apiKey, { type: "rotation.during" });
    await delivered(t.apiKey, during.body.event_id);
    expect(verifiesWith(r.requests[0]!, oldSecret)).toEqual([true, true]);
    expect(verifiesWith(r.requests[0]!, newSecret)).toEqual([true, true]);
    expect(String(r.requests[0]!.headers["webhook-signature"]).split(" ")).toHaveLength(2);

    await eventually(() => Date.parse(rotated.body.previous_secrets_expire_at) < Date.now(), {
      what: "the grace period to end",
    });
    const after = await postEvent(stack, t.apiKey, { type: "rotation.after" });
    await delivered(t.apiKey, after.body.event_id);
    expect(verifiesWith(r.requests[1]!, newSecret)).toEqual([true, true]);
    expect(verifiesWith(r.requests[1]!, oldSecret)).toEqual([false, false]);
  });
});

describe("endpoint health", () => {
  it("a 410 kills the delivery and disables the endpoint; its queued deliveries are skipped, and a recover sends them", async () => {
    const r = await receiver();
    r.behave((_req, n) => (n === 1 ? { status: 410 } : { status: 200 }));
    const t = await stack.createTenant([{ url: r.url }]);
    const auth = `Bearer ${t.apiKey}`;
    const endpointPath = `/v1/endpoints/${t.endpoints[0]!.endpointId}`;
    const gone = await postEvent(stack, t.apiKey, { type: "gone" });
    await eventually(async () => (await getEvent(stack, t.apiKey, gone.body.event_id)).status === "DEAD", {
      what: "dead",
    });
    const endpoint = await eventually(async () => {
      const e = (await stack.http.get(endpointPath).set("authorization", auth)).body as {
        enabled: boolean;
        failing_since?: string;
        disabled_reason?: string;
      };
      return !e.enabled ? e : undefined;
    });
    expect(endpoint.disabled_reason).toMatch(/^the endpoint answered 410 Gone at /);
    expect((await getEvent(stack, t.apiKey, gone.body.event_id)).deliveries[0]!.attempts).toBe(1);

    // New events record a disabled endpoint's delivery as SKIPPED: sent nowhere, no attempt, but not lost...
    const skipped = await postEvent(stack, t.apiKey, { type: "while-disabled" });
    expect(skipped.body.status).toBe("SKIPPED");
    expect((await getEvent(stack, t.apiKey, skipped.body.event_id)).deliveries).toEqual([
      expect.objectContaining({ status: "SKIPPED", attempts: 0, skipped_at: expect.any(String), attempt_log: [] }),
    ]);
    // ...and one already queued for it when it was disabled is skipped as it comes up: sent nowhere, no attempt spent,
    // and its message gone (no copy comes back every few minutes while nobody can receive it).
    const stale = await getTenant(stack.stores.tenants, t.tenantId);
    const wasEnabled = {
      ...stale!,
      endpoints: { [t.endpoints[0]!.endpointId]: { ...stale!.endpoints[t.endpoints[0]!.endpointId]!, enabled: true } },
    };
    const queued = await acceptEvent(
      {
        store: stack.store,
        enqueue: (m) => enqueueDeliveries(stack.queue, m),
        now: Date.now,
        metrics: stack.workerMetrics,
      },
      { tenant: wasEnabled, body: Buffer.from('{"type":"queued"}'), parsed: { type: "queued" }, log: logger },
    );
    await eventually(async () => (await getEvent(stack, t.apiKey, queued.eventId)).status === "SKIPPED", {
      what: "the queued delivery skipped",
    });
    expect((await getEvent(stack, t.apiKey, queued.eventId)).deliveries[0]).toMatchObject({
      status: "SKIPPED",
      attempts: 0,
    });
    const messages = async () => {
      const { Attributes: q } = await stack.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.queue.queueUrl, AttributeNames: ["All"] }),
      );
      return (
        Number(q?.ApproximateNumberOfMessages) +
        Number(q?.ApproximateNumberOfMessagesNotVisible) +
        Number(q?.ApproximateNumberOfMessagesDelayed)
      );
    };
    await eventually(async () => (await messages()) === 0, { what: "no message left for it" });
    await stays(async () => (await messages()) === 0 && r.requests.length === 1, {
      forMs: 2000,
      what: "nothing sent again, nothing POSTed to the disabled endpoint",
    });

    await stack.http.patch(endpointPath).set("authorization", auth).send({ enabled: true });
    // Re-enabling sends nothing that was skipped meanwhile: the tenant recovers it, with what died, since a time.
    await stays(async () => (await getEvent(stack, t.apiKey, skipped.body.event_id)).status === "SKIPPED", {
      forMs: 1000,
      what: "nothing skipped sent by re-enabling",
    });
    const eventIds = [gone.body.event_id, skipped.body.event_id, queued.eventId];
    const webhookIds = await Promise.all(
      eventIds.map(async (id) => (await getEvent(stack, t.apiKey, id)).deliveries[0]!.webhook_id),
    );
    const since = new Date(Date.now() - 60_000).toISOString();
    const recovered = await stack.http.post(`${endpointPath}/recover`).set("authorization", auth).send({ since });
    expect(recovered.status).toBe(202);
    expect(recovered.body).toEqual({
      endpoint_id: t.endpoints[0]!.endpointId,
      dry_run: false,
      examined: 3,
      requeued: 3,
      next_cursor: null,
    });
    for (const id of eventIds) await delivered(t.apiKey, id);
    expect(
      r.requests
        .slice(1)
        .map((q) => q.headers["webhook-id"])
        .sort(),
    ).toEqual(webhookIds.sort());
    const later = await stack.http
      .post(`${endpointPath}/recover`)
      .set("authorization", auth)
      .send({ since: new Date().toISOString() });
    expect(later.body.requeued).toBe(0);
    expect(
      (await stack.http.post(`${endpointPath}/recover`).set("authorization", auth).send({ since: "yesterday" })).status,
    ).toBe(422);
  });

  it("disables an endpoint that fails for longer than ENDPOINT_DISABLE_AFTER, and a success clears the run", async () => {
    const r = await receiver();
    r.behave(() => ({ status: 500 }));
    const t = await stack.createTenant([{ url: r.url }]);
    const auth = `Bearer ${t.apiKey}`;
    const endpointPath = `/v1/endpoints/${t.endpoints[0]!.endpointId}`;
    await postEvent(stack, t.apiKey, { type: "failing" });
    const first = await eventually(async () => {
      const e = (await stack.http.get(endpointPath).set("authorization", auth)).body as {
        enabled: boolean;
        failing_since?: string;
        disabled_reason?: string;
      };
      return e.failing_since ? e : undefined;
    });
    expect(first.enabled).toBe(true);
    const disabled = await eventually(async () => {
      const e = (await stack.http.get(endpointPath).set("authorization", auth)).body as {
        enabled: boolean;
        failing_since?: string;
        disabled_reason?: string;
      };
      return !e.enabled ? e : undefined;
    });
    expect(disabled.disabled_reason).toBe(`every delivery failed since ${first.failing_since}`);

    r.behave(() => ({ status: 200 }));
    const enabled = await stack.http.patch(endpointPath).set("authorization", auth).send({ enabled: true });
    expect(enabled.body.failing_since).toBeUndefined();
  });
});
