/** Reading and moving messages of the dead-letter queue, and queue depths. */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { receivedAttributes, type DeliveryQueue, type MessageAttributes } from "./delivery-queue.ts";

export interface QueueDepth {
  readonly visible: number;
  readonly in_flight: number;
  readonly delayed: number;
}

export async function queueDepth(q: DeliveryQueue, which: "queue" | "dlq"): Promise<QueueDepth> {
  const { Attributes: a = {} } = await q.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: which === "queue" ? q.queueUrl : q.dlqUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    in_flight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export interface DeadLetter {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** Epoch ms the message entered the DLQ. */
  readonly sentAt: number;
  /** Its message attributes (the trace context of the delivery that died). */
  readonly attributes: MessageAttributes;
}

/** Up to 10 DLQ messages, hidden from other readers for `holdS` seconds until released or deleted. */
export async function receiveDeadLetters(q: DeliveryQueue, holdS: number): Promise<DeadLetter[]> {
  const out = await q.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: q.dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: holdS,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ["SentTimestamp"],
      MessageAttributeNames: ["All"],
    }),
  );
  return (out.Messages ?? []).map((m) => ({
    messageId: m.MessageId ?? "",
    receiptHandle: m.ReceiptHandle ?? "",
    body: m.Body ?? "",
    sentAt: Number(m.Attributes?.SentTimestamp ?? 0),
    attributes: receivedAttributes(m.MessageAttributes),
  }));
}

/** Makes held DLQ messages visible again at once. */
export async function releaseDeadLetters(q: DeliveryQueue, receiptHandles: readonly string[]): Promise<void> {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    await q.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: q.dlqUrl,
        Entries: receiptHandles
          .slice(i, i + 10)
          .map((h, j) => ({ Id: String(j), ReceiptHandle: h, VisibilityTimeout: 0 })),
      }),
    );
  }
}

export async function deleteDeadLetter(q: DeliveryQueue, receiptHandle: string): Promise<void> {
  await q.sqs.send(new DeleteMessageCommand({ QueueUrl: q.dlqUrl, ReceiptHandle: receiptHandle }));
}
