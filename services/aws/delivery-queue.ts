/**
 * The deliveries queue and its DLQ: a message names a delivery (`{tenantId, eventId, endpointId}`) and carries
 * two hints, never the payload or a secret. Beside its body it may carry string message attributes (the trace
 * context), which this module passes along without knowing what they mean.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { z } from "zod";
import { createBatcher } from "./batcher.ts";

export const deliveryMessageSchema = z.object({
  tenantId: z.string().min(1),
  eventId: z.string().min(1),
  endpointId: z.string().min(1),
  /** The tenant's version when this was sent: a worker whose cached tenant is older reads it afresh. */
  tenantVersion: z.number().int().optional(),
  /** The event body's size, for the worker's memory budget (the largest allowed when absent). */
  bodyBytes: z.number().int().nonnegative().optional(),
  /** The event's ordering key, when the sender knew it (else the lease finds it, at the cost of one refused write). */
  orderingKey: z.string().optional(),
  /**
   * Ordered: sent to its lane's head (at acceptance, or by the event before it as that one left): its lease skips the
   * lane's read, which is sound only while the delivery was never requeued (aws/events/delivery-ops.ts, takeLease).
   */
  head: z.literal(true).optional(),
  /** Ordered: the event it waited for, recorded on its delivery by the lease. */
  after: z.string().optional(),
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** A message body as sent by us, or undefined (a poison message). */
export function parseDeliveryMessage(body: string): DeliveryMessage | undefined {
  try {
    const parsed = deliveryMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** SQS message attributes of string type, by name. */
export type MessageAttributes = Readonly<Record<string, string>>;

function sqsAttributes(a: MessageAttributes | undefined) {
  if (!a || Object.keys(a).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(a).map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
  );
}

/** The string attributes of a received message. */
export function receivedAttributes(
  a: Readonly<Record<string, { StringValue?: string | undefined }>> | undefined,
): MessageAttributes {
  return Object.fromEntries(
    Object.entries(a ?? {}).flatMap(([name, v]) => (v.StringValue === undefined ? [] : [[name, v.StringValue]])),
  );
}

export interface DeliveryQueue {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/** SQS's ceiling for one message's visibility. */
export const maxVisibilityS = 12 * 3600;

/**
 * Sends in batches of ten to the delivery queue (or the DLQ); answers the messages SQS refused (the caller
 * logs; the sweeper recovers them).
 */
export async function enqueueDeliveries(
  q: DeliveryQueue,
  messages: readonly DeliveryMessage[],
  to: "queue" | "dlq" = "queue",
  attributesOf?: (m: DeliveryMessage) => MessageAttributes | undefined,
): Promise<DeliveryMessage[]> {
  const failed: DeliveryMessage[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    try {
      const out = await q.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: to === "queue" ? q.queueUrl : q.dlqUrl,
          Entries: chunk.map((m, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify(m),
            MessageAttributes: sqsAttributes(attributesOf?.(m)),
          })),
        }),
      );
      for (const f of out.Failed ?? []) failed.push(chunk[Number(f.Id)]!);
    } catch {
      failed.push(...chunk);
    }
  }
  return failed;
}

export interface VisibilityChange {
  readonly receiptHandle: string;
  /** Seconds from now until the message is visible again (0: at once). */
  readonly visibleInS: number;
}

/**
 * What the worker's scheduler does to the messages it owns. Deletes and visibility changes of concurrent
 * deliveries go out batched ten to a call; each answers whether SQS took it (false: the message comes back when its
 * visibility lapses, which only delays it).
 */
export interface MessageAcks {
  /** Deletes the message: nothing more to do. */
  ack(receiptHandle: string): Promise<boolean>;
  /** Makes the message visible again `visibleInS` from now (a retry's backoff, a deferral, a heartbeat). */
  nack(change: VisibilityChange): Promise<boolean>;
  /** A copy into the dead-letter queue. */
  deadLetter(body: string, attributes?: MessageAttributes): Promise<void>;
  /** A fresh copy, delayed by up to SQS's 15 minutes. */
  resend(body: string, delayS: number, attributes?: MessageAttributes): Promise<void>;
}

export function messageAcks(q: DeliveryQueue, waitMs = 5): MessageAcks {
  const ok = (ids: readonly string[], failed: readonly { Id?: string | undefined }[] | undefined) => {
    const bad = new Set(failed?.map((f) => f.Id));
    return ids.map((id) => !bad.has(id));
  };
  const ack = createBatcher<string>(
    async (handles) => {
      const ids = handles.map((_, i) => String(i));
      const out = await q.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: q.queueUrl,
          Entries: handles.map((h, i) => ({ Id: ids[i], ReceiptHandle: h })),
        }),
      );
      return ok(ids, out.Failed);
    },
    10,
    waitMs,
  );
  const nack = createBatcher<VisibilityChange>(
    async (changes) => {
      const ids = changes.map((_, i) => String(i));
      const out = await q.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: q.queueUrl,
          Entries: changes.map((c, i) => ({
            Id: ids[i],
            ReceiptHandle: c.receiptHandle,
            VisibilityTimeout: Math.max(0, Math.min(maxVisibilityS, Math.ceil(c.visibleInS))),
          })),
        }),
      );
      return ok(ids, out.Failed);
    },
    10,
    waitMs,
  );
  return {
    ack,
    nack,
    async deadLetter(body, attributes) {
      await q.sqs.send(
        new SendMessageCommand({ QueueUrl: q.dlqUrl, MessageBody: body, MessageAttributes: sqsAttributes(attributes) }),
      );
    },
    async resend(body, delayS, attributes) {
      await q.sqs.send(
        new SendMessageCommand({
          QueueUrl: q.queueUrl,
          MessageBody: body,
          MessageAttributes: sqsAttributes(attributes),
          DelaySeconds: Math.max(0, Math.min(900, Math.ceil(delayS))),
        }),
      );
    },
  };
}

/**
 * The API's sends of concurrent requests grouped into SendMessageBatch calls: under load one SQS call per ten
 * deliveries instead of one per request, and no wait for a lone request (`createBatcher` with no wait). Each caller
 * gets back only its own refused messages; each message keeps the attributes its caller gave.
 */
export function createEnqueueBatcher(
  q: DeliveryQueue,
  maxWaitMs = 0,
): (messages: readonly DeliveryMessage[], attributes?: MessageAttributes) => Promise<DeliveryMessage[]> {
  const send = createBatcher<{ message: DeliveryMessage; attributes: MessageAttributes | undefined }>(
    async (chunk) => {
      const attributes = new Map(chunk.map((c) => [c.message, c.attributes]));
      const failed = await enqueueDeliveries(
        q,
        chunk.map((c) => c.message),
        "queue",
        (m) => attributes.get(m),
      );
      return chunk.map((c) => !failed.includes(c.message));
    },
    10,
    maxWaitMs,
  );
  return async (messages, attributes) => {
    const sent = await Promise.all(messages.map((message) => send({ message, attributes })));
    return messages.filter((_, i) => !sent[i]);
  };
}
