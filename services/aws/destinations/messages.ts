/**
 * A webhook as each AWS service takes it: the event's exact bytes as the body, and the webhook id, timestamp, both
 * signatures and the event type where a consumer can check provenance (SQS and SNS message attributes, EventBridge's
 * detail-type and source, Kinesis's partition key), with the bytes each message counts against its service's limit.
 */
import { PutEventsCommand, type EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { PutRecordCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import { PublishCommand, type MessageAttributeValue, type SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Target } from "../../core/destination.ts";

/** One delivery to a destination: what is sent, whatever the service. */
export interface DestinationMessage {
  /** The event's exact bytes (the ones signed). */
  readonly body: Uint8Array;
  /** webhook-id, webhook-timestamp, webhook-signature and stripe-signature, as an HTTP delivery's headers. */
  readonly signatureHeaders: Readonly<Record<string, string>>;
  readonly eventType: string;
  readonly eventId: string;
  readonly orderingKey?: string | undefined;
  readonly tenantId: string;
}

/** A session's client, tagged with its service. */
export type ServiceClient =
  | { readonly type: "aws_sqs"; readonly client: SQSClient }
  | { readonly type: "aws_sns"; readonly client: SNSClient }
  | { readonly type: "aws_eventbridge"; readonly client: EventBridgeClient }
  | { readonly type: "aws_kinesis"; readonly client: KinesisClient };

/** A put the service refused inside a successful answer (EventBridge's failed entry): thrown as an AWS error. */
export class RefusedEntryError extends Error {
  readonly $metadata = { httpStatusCode: 200 };
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

const utf8 = new TextDecoder();

/** The attributes a consumer checks provenance with (SQS and SNS take no empty value, so none is sent empty). */
export function attributesOf(m: DestinationMessage): Record<string, string> {
  const headers = m.signatureHeaders;
  const all: Record<string, string | undefined> = {
    "webhook-id": headers["webhook-id"],
    "webhook-timestamp": headers["webhook-timestamp"],
    "webhook-signature": headers["webhook-signature"],
    "stripe-signature": headers["stripe-signature"],
    "event-type": m.eventType,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => Boolean(e[1])));
}

/** EventBridge's detail: the payload itself when it is a JSON object, else the payload as a string under `data`. */
export function eventBridgeDetail(body: Uint8Array): string {
  const text = utf8.decode(body);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return text;
  } catch {
    // Not JSON: wrapped below.
  }
  return JSON.stringify({ data: text });
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** The key a FIFO queue or topic orders by, and Kinesis shards by: the event's ordering key, else its id. */
const groupOf = (m: DestinationMessage) => m.orderingKey ?? m.eventId;

/** What a message counts against its service's size limit (the payload, attributes and names each service adds). */
export function messageBytes(t: Target, m: DestinationMessage, eventBridgeSource: string): number {
  switch (t.type) {
    case "aws_sqs":
    case "aws_sns": {
      const attrs = Object.entries(attributesOf(m)).reduce((n, [k, v]) => n + bytes(k) + bytes("String") + bytes(v), 0);
      return m.body.byteLength + attrs;
    }
    case "aws_eventbridge":
      return bytes(eventBridgeDetail(m.body)) + bytes(m.eventType || "webhook") + bytes(eventBridgeSource);
    case "aws_kinesis":
      return m.body.byteLength + bytes(groupOf(m));
  }
}

/** FIFO queues and topics: the group to order in and the id to deduplicate on (the webhook id, same on retries). */
function fifoFields(t: Target, m: DestinationMessage) {
  if (!t.fifo) return {};
  return { MessageGroupId: groupOf(m), MessageDeduplicationId: m.signatureHeaders["webhook-id"] };
}

function stringAttributes(m: DestinationMessage): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [k, v] of Object.entries(attributesOf(m))) out[k] = { DataType: "String", StringValue: v };
  return out;
}

/**
 * Puts the message on the target; answers what the service said of it (its message, event or sequence id) for the
 * attempt log. Throws what the service throws.
 */
export async function put(
  s: ServiceClient,
  t: Target,
  m: DestinationMessage,
  eventBridgeSource: string,
  abortSignal: AbortSignal,
): Promise<string> {
  const options = { abortSignal };
  switch (s.type) {
    case "aws_sqs": {
      const input = {
        QueueUrl: t.queueUrl,
        MessageBody: utf8.decode(m.body),
        MessageAttributes: stringAttributes(m),
        ...fifoFields(t, m),
      };
      const out = await s.client.send(new SendMessageCommand(input), options);
      return `MessageId ${out.MessageId ?? "?"}`;
    }
    case "aws_sns": {
      const input = {
        TopicArn: t.arn,
        Message: utf8.decode(m.body),
        MessageAttributes: stringAttributes(m),
        ...fifoFields(t, m),
      };
      const out = await s.client.send(new PublishCommand(input), options);
      return `MessageId ${out.MessageId ?? "?"}`;
    }
    case "aws_eventbridge": {
      const entry = {
        EventBusName: t.arn,
        Source: eventBridgeSource,
        DetailType: m.eventType || "webhook",
        Detail: eventBridgeDetail(m.body),
      };
      const out = await s.client.send(new PutEventsCommand({ Entries: [entry] }), options);
      const result = out.Entries?.[0];
      if ((out.FailedEntryCount ?? 0) > 0 || result?.ErrorCode)
        throw new RefusedEntryError(result?.ErrorCode ?? "FailedEntry", result?.ErrorMessage ?? "entry not put");
      return `EventId ${result?.EventId ?? "?"}`;
    }
    case "aws_kinesis": {
      const input = { StreamARN: t.arn, Data: m.body, PartitionKey: groupOf(m) };
      const out = await s.client.send(new PutRecordCommand(input), options);
      return `ShardId ${out.ShardId ?? "?"}, SequenceNumber ${out.SequenceNumber ?? "?"}`;
    }
  }
}
