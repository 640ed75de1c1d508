/**
 * Helpers shared by the AWS destination suites (moto and the default stack): an endpoint of a tenant delivering into
 * a target through a role, an event posted for it and waited for, and a message read back from a queue and checked.
 */
import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "vitest";
import { verifyWebhook } from "../../services/core/signing.ts";
import { getEvent, postEvent, type EventView } from "./api.ts";
import { eventually } from "./eventually.ts";
import type { Stack } from "./stack.ts";

/**
 * A stack's settings for AWS destinations on the default backend's SQS emulator at `endpoint`, as `npm start` sets
 * them: it has no STS, so the worker calls it as itself.
 */
export const emulatorDestinations = (endpoint: string) => ({
  AWS_ENDPOINT_URL_DESTINATIONS: endpoint,
  DESTINATION_ASSUME_ROLE: "false",
  DESTINATION_PRINCIPAL_ARN: "arn:aws:iam::123456789012:role/webhooks-worker",
});

/**
 * An endpoint delivering to `target` through `roleArn` (the API's own route), taking only `eventType`, so tests'
 * events never reach each other's targets. Answers its id and signing secret.
 */
export async function createDestination(
  stack: Stack,
  apiKey: string,
  d: { type: string; target: string; roleArn: string; eventType: string },
): Promise<{ endpointId: string; secret: string }> {
  const body = { type: d.type, target: d.target, role_arn: d.roleArn, event_types: [d.eventType] };
  const res = await stack.http.post("/v1/endpoints").set("authorization", `Bearer ${apiKey}`).send(body);
  if (res.status !== 201) throw new Error(`endpoint creation: ${res.status} ${res.text}`);
  expect(res.body.external_id).toMatch(/^whx_/);
  return { endpointId: res.body.endpoint_id as string, secret: res.body.secret as string };
}

/** Posts an event (its type filtered to one endpoint) and waits until it settles. */
export async function settledEvent(
  stack: Stack,
  apiKey: string,
  eventType: string,
  payload: object,
  headers: Record<string, string> = {},
): Promise<EventView> {
  const res = await postEvent(stack, apiKey, { type: eventType, ...payload }, headers);
  if (res.status !== 201) throw new Error(`event: ${res.status} ${res.text}`);
  const id = res.body.event_id as string;
  return eventually(
    async () => {
      const view = await getEvent(stack, apiKey, id);
      return view.status !== "PENDING" && view;
    },
    { what: `event ${id} settled`, timeoutMs: 20_000 },
  );
}

/** Waits for one message on the queue, with its attributes. */
export function receiveOne(sqs: SQSClient, queueUrl: string): Promise<Message> {
  return eventually(
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ["All"], WaitTimeSeconds: 1 }),
      );
      return out.Messages?.[0];
    },
    { what: `a message on ${queueUrl}`, timeoutMs: 20_000 },
  );
}

export const attribute = (m: Message, name: string) => m.MessageAttributes?.[name]?.StringValue;

/** The message is the event's exact body, with its webhook id and type, and both signatures verify. */
export function expectSignedMessage(m: Message, view: EventView, secret: string, body: object): void {
  expect(JSON.parse(m.Body!)).toEqual(body);
  expect(attribute(m, "webhook-id")).toBe(view.deliveries[0]!.webhook_id);
  expect(attribute(m, "event-type")).toBe(view.type);
  const headers = Object.fromEntries(
    ["webhook-id", "webhook-timestamp", "webhook-signature", "stripe-signature"].map((k) => [k, attribute(m, k)]),
  );
  expect(verifyWebhook(headers, Buffer.from(m.Body!), secret)).toEqual({ ok: true, format: "standard" });
  const stripeOnly = { "stripe-signature": headers["stripe-signature"] };
  expect(verifyWebhook(stripeOnly, Buffer.from(m.Body!), secret)).toEqual({ ok: true, format: "stripe" });
}
