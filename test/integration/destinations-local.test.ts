/**
 * AWS destinations on the default stack (the emulator `npm start` runs, without STS): the worker puts into a queue
 * and a topic there with its own credentials (DESTINATION_ASSUME_ROLE=false, allowed on emulators only), and the
 * message read back is what the moto suite checks through AssumeRole.
 */
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { localCredentials } from "../../services/local/local-stack.ts";
import {
  attribute,
  createDestination,
  emulatorDestinations,
  expectSignedMessage,
  receiveOne,
  settledEvent,
} from "../support/destinations.ts";
import { startStack, type Stack } from "../support/stack.ts";

const role = "arn:aws:iam::111111111111:role/webhooks-delivery";
let stack: Stack;
let apiKey: string;
let sqs: SQSClient;
let sns: SNSClient;

async function newQueue(name: string): Promise<{ url: string; arn: string }> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return { url, arn: attrs.Attributes!.QueueArn! };
}

beforeAll(async () => {
  const endpoint = inject("sqsEndpoint");
  stack = await startStack({
    ...emulatorDestinations(endpoint),
    // SNS takes 256 KiB with the attributes: the API refuses SNS while larger payloads are accepted.
    MAX_PAYLOAD_BYTES: "200000",
  });
  const config = { region: "us-east-1", endpoint, credentials: localCredentials };
  sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
  sns = new SNSClient(config);
  apiKey = (await stack.createTenant([])).apiKey;
  stack.startWorker();
}, 60_000);

afterAll(async () => {
  await stack.close();
  sqs.destroy();
  sns.destroy();
});

describe("AWS destinations on the default stack", () => {
  it("SQS: the exact body, with the webhook id, timestamp, both signatures and the event type as attributes", async () => {
    const queue = await newQueue(`orders-${Date.now()}`);
    const { secret } = await createDestination(stack, apiKey, {
      type: "aws_sqs",
      target: queue.url,
      roleArn: role,
      eventType: "order.sqs",
    });
    const view = await settledEvent(stack, apiKey, "order.sqs", { n: 1 });
    expect(view.status).toBe("DELIVERED");
    expect(view.deliveries[0]!.attempt_log[0]!.response_excerpt).toMatch(/^MessageId /);
    expectSignedMessage(await receiveOne(sqs, queue.url), view, secret, { type: "order.sqs", n: 1 });
  });

  it("SNS: published with the same attributes (read through a queue subscribed with raw delivery)", async () => {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: `orders-${Date.now()}` }))).TopicArn!;
    const queue = await newQueue(`orders-sns-${Date.now()}`);
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: "sqs",
        Endpoint: queue.arn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    await createDestination(stack, apiKey, {
      type: "aws_sns",
      target: topicArn,
      roleArn: role,
      eventType: "order.sns",
    });
    const view = await settledEvent(stack, apiKey, "order.sns", { n: 2 });
    expect(view.status).toBe("DELIVERED");
    const m = await receiveOne(sqs, queue.url);
    expect(JSON.parse(m.Body!)).toEqual({ type: "order.sns", n: 2 });
    expect(attribute(m, "webhook-id")).toBe(view.deliveries[0]!.webhook_id);
  });
});
