/**
 * Polls the deliveries queue with sqs-consumer: `concurrency` slots spread over consumers of `batchSize`
 * messages each. sqs-consumer finishes a whole receive batch before polling again, so a slow delivery holds
 * the rest of its batch's slots; a batch size of 1 gives every slot its own poller.
 */
import type { QueueMessage as Message, SQSClient } from "../aws/clients.ts";
import type { Logger } from "pino";
import { Consumer } from "sqs-consumer";
import type { Disposition, ReceivedMessage } from "./deliver.ts";

export interface ConsumerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly concurrency: number;
  /** Messages per receive (1 to 10). */
  readonly batchSize: number;
  readonly visibilityTimeoutS: number;
  /** How long stop() waits for in-flight deliveries. */
  readonly drainMs: number;
  /** Seconds between long polls' ends and the next; tests shorten the poll. @default 20 */
  readonly waitTimeSeconds?: number;
  readonly log: Logger;
  readonly handle: (msg: ReceivedMessage) => Promise<Disposition>;
}

export interface DeliveryConsumers {
  stop(): Promise<void>;
}

/** After an unexpected error (a backend down), wait 2^receives seconds, at most 5 min, before the next try. */
function errorBackoffS(messages: Message[]): number {
  const receives = Number(messages[0]?.Attributes?.ApproximateReceiveCount ?? 1);
  return Math.min(300, 2 ** Math.min(receives, 9));
}

export function startConsumers(opts: ConsumerOptions): DeliveryConsumers {
  const count = Math.ceil(opts.concurrency / opts.batchSize);
  const batchSize = Math.ceil(opts.concurrency / count);
  const consumers = Array.from({ length: count }, () => {
    const consumer = Consumer.create({
      sqs: opts.sqs,
      queueUrl: opts.queueUrl,
      useQueueUrlAsEndpoint: false,
      batchSize,
      visibilityTimeout: opts.visibilityTimeoutS,
      // Extends visibility while a slow endpoint is answering, so no second worker gets the message.
      heartbeatInterval: Math.max(1, Math.floor(opts.visibilityTimeoutS / 3)),
      waitTimeSeconds: opts.waitTimeSeconds ?? 20,
      messageSystemAttributeNames: ["ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount"],
      terminateVisibilityTimeout: errorBackoffS,
      pollingCompleteWaitTimeMs: opts.drainMs,
      strictReturn: true,
      handleMessage: async (message) => {
        const first = Number(message.Attributes?.ApproximateFirstReceiveTimestamp);
        const disposition = await opts.handle({
          body: message.Body ?? "",
          receiptHandle: message.ReceiptHandle ?? "",
          firstReceivedAt: Number.isFinite(first) ? first : undefined,
        });
        return disposition === "delete" ? message : undefined;
      },
    });
    consumer.on("processing_error", (err) => opts.log.warn({ err }, "delivery failed after the attempt, SQS will redeliver"));
    consumer.on("error", (err) => opts.log.error({ err }, "queue error"));
    consumer.start();
    return consumer;
  });
  let stopping: Promise<unknown> | undefined;
  return {
    async stop() {
      stopping ??= Promise.all(
        consumers.map(
          (c) =>
            new Promise<void>((resolve) => {
              c.once("stopped", () => resolve());
              c.stop();
            }),
        ),
      );
      await stopping;
    },
  };
}
