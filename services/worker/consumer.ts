/**
 * The pollers: sqs-consumer receives (long polls, its backoff on errors, its events) and hands each batch to the
 * scheduler at once, then receives again. Each receive asks for exactly the room the scheduler reserved for it, so
 * a task never owns more messages than its capacity. The scheduler, not sqs-consumer, acks and extends them.
 */
import type { QueueMessage as Message, SQSClient } from "../aws/clients.ts";
import { receivedAttributes } from "../aws/delivery-queue.ts";
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
  let stopping = false;
  const consumers = Array.from({ length: o.pollers }, () => {
    // The room reserved for this poller's next receive: a poll is sequential, so one reservation at a time.
    let reserved = 0;
    // When this poller last moved: a hung one (a receive or a wait for room that never ends) stops moving.
    let movedAt = Date.now();
    /**
     * Room for the next receive, and that receive sized to it. sqs-consumer builds a receive's parameters from its
     * `batchSize` before it calls `preReceiveMessageCallback`, so the room is reserved before the poll that uses it:
     * at the start, and after each batch is handed over. An empty or failed receive keeps its reservation.
     */
    const reserveNext = async () => {
      reserved = await o.scheduler.reserve(batchSize);
      consumer.updateOption("batchSize", reserved);
      movedAt = Date.now();
    };
    const consumer: Consumer = Consumer.create({
      sqs: o.sqs,
      queueUrl: o.queueUrl,
      useQueueUrlAsEndpoint: false,
      batchSize,
      visibilityTimeout: o.visibilityTimeoutS,
      waitTimeSeconds,
      messageSystemAttributeNames: ["ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount"],
      // The trace context rides here (the scheduler keeps it on every copy it sends).
      messageAttributeNames: ["All"],
      // Never a receive without room (only when stopping is there none: the reservation was refused).
      preReceiveMessageCallback: () => (reserved > 0 ? Promise.resolve() : Promise.reject(new Error(stoppingMessage))),
      handleMessageBatch: async (messages) => {
        o.scheduler.accept(messages.map(received), reserved);
        reserved = 0;
        await reserveNext().catch(() => undefined);
        // Nothing for sqs-consumer to delete: the scheduler acknowledges each message when it is done.
        return [];
      },
      pollingCompleteWaitTimeMs: (waitTimeSeconds + 5) * 1000,
    });
    consumer.on("error", (err) => {
      movedAt = Date.now();
      if (!err.message.includes(stoppingMessage)) o.log.error({ err }, "queue error");
    });
    for (const done of ["response_processed", "empty"] as const) consumer.on(done, () => (movedAt = Date.now()));
    void reserveNext().then(
      () => stopping || consumer.start(),
      () => undefined,
    );
    return { consumer, reserved: () => reserved, movedAt: () => movedAt };
  });
  let stopped: Promise<unknown> | undefined;
  return {
    progressing: (stallMs) => consumers.every((c) => Date.now() - c.movedAt() < stallMs),
    async stop() {
      stopping = true;
      stopped ??= Promise.all(
        consumers.map(
          (c) =>
            new Promise<void>((resolve) => {
              const done = () => {
                o.scheduler.unreserve(c.reserved());
                resolve();
              };
              // One that never started (stopped before its first reservation came) has nothing to wait for.
              if (!c.consumer.status.isRunning) return done();
              c.consumer.once("stopped", done);
              c.consumer.stop();
            }),
        ),
      );
      await stopped;
    },
  };
}
