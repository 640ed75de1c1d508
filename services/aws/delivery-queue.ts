/** The deliveries queue and its DLQ: messages carry only `{tenantId, eventId, endpointId}`. */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { z } from "zod";

export const deliveryMessageSchema = z.object({
  tenantId: z.string().min(1),
  eventId: z.string().min(1),
  endpointId: z.string().min(1),
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

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
export async function enqueueDeliveries(q: DeliveryQueue, messages: readonly DeliveryMessage[], to: "queue" | "dlq" = "queue"): Promise<DeliveryMessage[]> {
  const failed: DeliveryMessage[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    try {
      const out = await q.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: to === "queue" ? q.queueUrl : q.dlqUrl,
          Entries: chunk.map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) })),
        }),
      );
      for (const f of out.Failed ?? []) failed.push(chunk[Number(f.Id)]!);
    } catch {
      failed.push(...chunk);
    }
  }
  return failed;
}

/** Leaves the message on the queue, invisible until its next attempt is due. */
export async function parkMessage(q: DeliveryQueue, receiptHandle: string, delayS: number): Promise<void> {
  await q.sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: q.queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: Math.max(0, Math.min(maxVisibilityS, Math.ceil(delayS))),
    }),
  );
}

/** Replaces a message by a fresh one (its visibility budget of 12 h since first receipt is spent). */
export async function resendDelayed(q: DeliveryQueue, message: DeliveryMessage, delayS: number): Promise<void> {
  await q.sqs.send(
    new SendMessageCommand({
      QueueUrl: q.queueUrl,
      MessageBody: JSON.stringify(message),
      DelaySeconds: Math.max(0, Math.min(900, Math.ceil(delayS))),
    }),
  );
}

export async function deadLetter(q: DeliveryQueue, body: string): Promise<void> {
  await q.sqs.send(new SendMessageCommand({ QueueUrl: q.dlqUrl, MessageBody: body }));
}

export async function deleteMessage(q: DeliveryQueue, receiptHandle: string): Promise<void> {
  await q.sqs.send(new DeleteMessageCommand({ QueueUrl: q.queueUrl, ReceiptHandle: receiptHandle }));
}

/**
 * Groups the sends of concurrent callers into SendMessageBatch calls of up to ten messages: under load the
 * API makes one SQS call per ten deliveries instead of one per request. A batch leaves when it is full or
 * after `maxWaitMs`. Each caller gets back only its own refused messages.
 */
export function createEnqueueBatcher(q: DeliveryQueue, maxWaitMs = 2): (messages: readonly DeliveryMessage[]) => Promise<DeliveryMessage[]> {
  type Waiting = { message: DeliveryMessage; done: (failed: boolean) => void };
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    for (let i = 0; i < batch.length; i += 10) {
      const chunk = batch.slice(i, i + 10);
      void enqueueDeliveries(q, chunk.map((w) => w.message)).then((failed) => {
        for (const w of chunk) w.done(failed.includes(w.message));
      });
    }
  };
  return async (messages) => {
    const results = messages.map(
      (message) =>
        new Promise<DeliveryMessage | undefined>((resolve) => {
          waiting.push({ message, done: (failed) => resolve(failed ? message : undefined) });
        }),
    );
    if (waiting.length >= 10) flush();
    else timer ??= setTimeout(flush, maxWaitMs);
    return (await Promise.all(results)).filter((m): m is DeliveryMessage => m !== undefined);
  };
}
