/**
 * AWS destinations delivered by the worker on moto_server, which serves STS, SQS, SNS, EventBridge and Kinesis on the
 * port of its DynamoDB: each type put into a customer's resource (in another account, reached through AssumeRole)
 * and read back with its attributes; a missing target ends as a 410 does; throttling is retried; one AssumeRole
 * serves many deliveries. The worker calls the destinations through a proxy that counts and throttles operations.
 * moto does not check trust policies, so a wrong external id cannot fail here (test/unit/aws/destinations.test.ts
 * covers what STS's AccessDenied means).
 */
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
} from "@aws-sdk/client-kinesis";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { localCredentials } from "../../services/local/local-stack.ts";
import { startAwsFaultProxy, type AwsFaultProxy } from "../support/aws-fault-proxy.ts";
import {
  attribute,
  createDestination,
  expectSignedMessage,
  receiveOne,
  settledEvent,
} from "../support/destinations.ts";
import { eventually } from "../support/eventually.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

const customerAccount = "111111111111";
const role = `arn:aws:iam::${customerAccount}:role/webhooks-delivery`;
const region = "us-east-1";
let moto: string;
let proxy: AwsFaultProxy;
let stack: Stack;
let tenant: CreatedTenant;
/** The customer's own clients, in their account (credentials from AssumeRole, as moto keeps resources per account). */
let customer: { sqs: SQSClient; sns: SNSClient; events: EventBridgeClient; kinesis: KinesisClient };

const auth = () => `Bearer ${tenant.apiKey}`;

async function customerClients() {
  const sts = new STSClient({ region, endpoint: moto, credentials: localCredentials });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: "customer" }));
  sts.destroy();
  const c = out.Credentials!;
  const credentials = {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!,
  };
  const config = { region, endpoint: moto, credentials };
  const sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
  return {
    sqs,
    sns: new SNSClient(config),
    events: new EventBridgeClient(config),
    // Kinesis's default is HTTP/2, which moto does not speak: it takes SQS's HTTP/1.1 handler.
    kinesis: new KinesisClient({ ...config, requestHandler: sqs.config.requestHandler }),
  };
}

const destination = (type: string, target: string, eventType: string) =>
  createDestination(stack, tenant.apiKey, { type, target, roleArn: role, eventType });
const settled = (eventType: string, payload: object, headers: Record<string, string> = {}) =>
  settledEvent(stack, tenant.apiKey, eventType, payload, headers);
const receive = (queueUrl: string) => receiveOne(customer.sqs, queueUrl);

async function newQueue(name: string): Promise<{ url: string; arn: string }> {
  const url = (await customer.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const attrs = await customer.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return { url, arn: attrs.Attributes!.QueueArn! };
}

beforeAll(async () => {
  if (inject("backend") !== "moto") throw new Error("test/moto runs with TEST_BACKEND=moto (npm run test:moto)");
  moto = inject("sqsEndpoint");
  proxy = await startAwsFaultProxy(moto);
  stack = await startStack({
    AWS_ENDPOINT_URL_DESTINATIONS: proxy.url,
    DESTINATION_PRINCIPAL_ARN: "arn:aws:iam::123456789012:role/webhooks-worker",
    // SNS and EventBridge take 256 KiB with the attributes: the API refuses them while larger payloads are accepted.
    MAX_PAYLOAD_BYTES: "200000",
    RETRY_SCHEDULE: "100ms,100ms,100ms,100ms",
  });
  customer = await customerClients();
  tenant = await stack.createTenant([]);
  stack.startWorker();
}, 60_000);

afterAll(async () => {
  await stack.close();
  await proxy.close();
  // Kinesis's client shares SQS's handler: destroying SQS's closes both.
  customer.sqs.destroy();
  for (const c of [customer.sns, customer.events]) c.destroy();
});

describe("AWS destinations on moto", () => {
  it("SQS: the exact body, with the webhook id, timestamp, both signatures and the event type as attributes", async () => {
    const queue = await newQueue("orders");
    const { secret } = await destination("aws_sqs", queue.url, "order.sqs");
    const view = await settled("order.sqs", { n: 1 });
    expect(view.status).toBe("DELIVERED");
    expect(view.deliveries[0]!.attempt_log[0]!.response_excerpt).toMatch(/^MessageId /);
    expectSignedMessage(await receive(queue.url), view, secret, { type: "order.sqs", n: 1 });
  });

  it("SNS: published with the same attributes (read through a queue subscribed with raw delivery)", async () => {
    const topicArn = (await customer.sns.send(new CreateTopicCommand({ Name: "orders-topic" }))).TopicArn!;
    const queue = await newQueue("orders-from-sns");
    await customer.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: "sqs",
        Endpoint: queue.arn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    await destination("aws_sns", topicArn, "order.sns");
    const view = await settled("order.sns", { n: 2 });
    expect(view.status).toBe("DELIVERED");
    const m = await receive(queue.url);
    expect(JSON.parse(m.Body!)).toEqual({ type: "order.sns", n: 2 });
    expect(attribute(m, "webhook-id")).toBe(view.deliveries[0]!.webhook_id);
    expect(attribute(m, "event-type")).toBe("order.sns");
    expect(attribute(m, "stripe-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it("EventBridge: one event on the bus, detail-type the event type, source ours, detail the payload", async () => {
    const busArn = (await customer.events.send(new CreateEventBusCommand({ Name: "orders-bus" }))).EventBusArn!;
    const queue = await newQueue("orders-from-bus");
    const rule = { Name: "all-webhooks", EventBusName: "orders-bus" };
    await customer.events.send(new PutRuleCommand({ ...rule, EventPattern: JSON.stringify({ source: ["webhooks"] }) }));
    await customer.events.send(
      new PutTargetsCommand({
        Rule: rule.Name,
        EventBusName: rule.EventBusName,
        Targets: [{ Id: "q", Arn: queue.arn }],
      }),
    );
    await destination("aws_eventbridge", busArn, "order.bus");
    const view = await settled("order.bus", { n: 3 });
    expect(view.status).toBe("DELIVERED");
    expect(view.deliveries[0]!.attempt_log[0]!.response_excerpt).toMatch(/^EventId /);
    const event = JSON.parse((await receive(queue.url)).Body!) as Record<string, unknown>;
    expect(event).toMatchObject({
      source: "webhooks",
      "detail-type": "order.bus",
      detail: { type: "order.bus", n: 3 },
    });
  });

  it("Kinesis: the exact bytes as the record, the ordering key as its partition key", async () => {
    await customer.kinesis.send(new CreateStreamCommand({ StreamName: "orders-stream", ShardCount: 1 }));
    const stream = await eventually(async () => {
      const d = (await customer.kinesis.send(new DescribeStreamCommand({ StreamName: "orders-stream" })))
        .StreamDescription!;
      return d.StreamStatus === "ACTIVE" && d;
    });
    await destination("aws_kinesis", stream.StreamARN!, "order.stream");
    const view = await settled("order.stream", { n: 4 }, { "Ordering-Key": "customer-42" });
    expect(view.status).toBe("DELIVERED");
    const iterator = await customer.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: "orders-stream",
        ShardId: stream.Shards![0]!.ShardId!,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const records = (await customer.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator! })))
      .Records!;
    expect(records).toHaveLength(1);
    expect(records[0]!.PartitionKey).toBe("customer-42");
    expect(JSON.parse(Buffer.from(records[0]!.Data!).toString("utf8"))).toEqual({ type: "order.stream", n: 4 });
  });

  it("a missing target: a failed attempt naming the AWS error, dead at once, the endpoint disabled as by a 410", async () => {
    const missing = `${moto}/${customerAccount}/never-created`;
    const { endpointId } = await destination("aws_sqs", missing, "order.missing");
    const view = await settled("order.missing", { n: 5 });
    expect(view.status).toBe("DEAD");
    const [d] = view.deliveries;
    expect(d!.attempts).toBe(1);
    expect(d!.attempt_log).toHaveLength(1);
    expect(d!.attempt_log[0]).toMatchObject({ status_code: null });
    expect(d!.attempt_log[0]!.error).toMatch(
      /^AWS (QueueDoesNotExist|AWS\.SimpleQueueService\.NonExistentQueue) on sqs:SendMessage: the target does not exist$/,
    );
    // The tenant reads our words, not AWS's message (which can name accounts and roles).
    expect(d!.attempt_log[0]!.error).not.toContain(customerAccount);
    const endpoint = await eventually(async () => {
      const res = await stack.http.get(`/v1/endpoints/${endpointId}`).set("authorization", auth());
      return res.body.enabled === false && (res.body as { enabled: boolean; disabled_reason: string });
    });
    expect(endpoint.disabled_reason).toContain("the target does not exist");
  });

  it("throttling is retried on the schedule, then delivered", async () => {
    const queue = await newQueue("orders-throttled");
    await destination("aws_sqs", queue.url, "order.throttled");
    const before = proxy.count("SendMessage");
    proxy.throttle("SendMessage", 2);
    const view = await settled("order.throttled", { n: 6 });
    expect(view.status).toBe("DELIVERED");
    expect(proxy.count("SendMessage") - before).toBe(3);
    const log = view.deliveries[0]!.attempt_log.sort((a, b) => a.attempt - b.attempt);
    expect(log.map((a) => a.error)).toEqual([
      "AWS RequestThrottled on sqs:SendMessage: the service throttled us; retried later",
      "AWS RequestThrottled on sqs:SendMessage: the service throttled us; retried later",
      null,
    ]);
    expect(JSON.parse((await receive(queue.url)).Body!)).toEqual({ type: "order.throttled", n: 6 });
  });

  it("one AssumeRole serves many deliveries to a destination", async () => {
    const queue = await newQueue("orders-many");
    await destination("aws_sqs", queue.url, "order.many");
    const before = proxy.count("AssumeRole");
    const views = await Promise.all(Array.from({ length: 10 }, (_, n) => settled("order.many", { n })));
    expect(views.map((v) => v.status)).toEqual(Array(10).fill("DELIVERED"));
    expect(proxy.count("AssumeRole") - before).toBe(1);
  });
});
