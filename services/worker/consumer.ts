/**
 * The pollers: sqs-consumer receives (long polls, its backoff on errors, its events) and hands each batch to
 * the scheduler at once, then receives again; it asks the scheduler for room before every receive, so a task
 * never holds more messages than it can work on. The scheduler, not sqs-consumer, deletes and extends them.
 */
import type { QueueMessage as Message, SQSClient } from "../aws/clients.ts";
import { receivedAttributes, sizedReceives } from "../aws/delivery-queue.ts";
import type { Logger } from "pino";
import { Consumer } from "sqs-consumer";
import { stoppingMessage, type Scheduler } from "./scheduler.ts";

export interface ConsumerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly pollers: number;
  readonly visibilityTimeoutS: number;
  /** Long-poll length; tests shorten it so stop() returns quickly. @default 20 */
  readonly waitTimeSeconds?: number;
  readonly scheduler: Scheduler;
  readonly log: Logger;
}

export interface Pollers {
  /** Stops receiving; resolves when no receive is under way any more (its messages go back to the queue). */
  stop(): Promise<void>;
  /** Every poller finished a receive (with messages, none, or an error) or got room for one within `stallMs`. */
  progressing(stallMs: number): boolean;
}

const batchSize = 10;

function received(m: Message) {
  const first = Number(m.Attributes?.ApproximateFirstReceiveTimestamp);
  return {
    messageId: m.MessageId ?? "",
    receiptHandle: m.ReceiptHandle ?? "",
    body: m.Body ?? "",
    receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
    firstReceivedAt: Number.isFinite(first) ? first : undefined,
    attributes: receivedAttributes(m.MessageAttributes),
  };
}

export function startPollers(o: ConsumerOptions): Pollers {
  const waitTimeSeconds = o.waitTimeSeconds ?? 20;
  const consumers = Array.from({ length: o.pollers }, () => {
    // A poll is sequential: the room reserved before one receive is given back by its batch, or before the next.
    let reserved = 0;
    // When this poller last moved: a hung one (a receive or a wait for room that never ends) stops moving.
    let movedAt = Date.now();
    const consumer: Consumer = Consumer.create({
      sqs: sizedReceives(o.sqs, () => reserved),
      queueUrl: o.queueUrl,
      useQueueUrlAsEndpoint: false,
      batchSize,
      visibilityTimeout: o.visibilityTimeoutS,
      waitTimeSeconds,
      messageSystemAttributeNames: ["ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount"],
      // The trace context rides here (the scheduler keeps it on every copy it sends).
      messageAttributeNames: ["All"],
      preReceiveMessageCallback: async () => {
        o.scheduler.unreserve(reserved);
        reserved = 0;
        reserved = await o.scheduler.reserve(batchSize);
        movedAt = Date.now();
      },
      handleMessageBatch: (messages) => {
        o.scheduler.accept(messages.map(received), reserved);
        reserved = 0;
        // Nothing for sqs-consumer to delete: the scheduler acknowledges each message when it is done.
        return Promise.resolve([]);
      },
      pollingCompleteWaitTimeMs: (waitTimeSeconds + 5) * 1000,
    });
    consumer.on("error", (err) => {
      movedAt = Date.now();
      if (!err.message.includes(stoppingMessage)) o.log.error({ err }, "queue error");
    });
    for (const done of ["response_processed", "empty"] as const) consumer.on(done, () => (movedAt = Date.now()));
    consumer.start();
    return { consumer, reserved: () => reserved, movedAt: () => movedAt };
  });
  let stopped: Promise<unknown> | undefined;
  return {
    progressing: (stallMs) => consumers.every((c) => Date.now() - c.movedAt() < stallMs),
    async stop() {
      stopped ??= Promise.all(
        consumers.map(
          (c) =>
            new Promise<void>((resolve) => {
              c.consumer.once("stopped", () => {
                o.scheduler.unreserve(c.reserved());
                resolve();
              });
              c.consumer.stop();
            }),
        ),
      );
      await stopped;
    },
  };
}
