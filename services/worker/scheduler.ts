/**
 * Owns every received message until it is done: starts each delivery on its own as soon as it arrives (no
 * delivery waits for another), keeps the messages invisible while they are worked on (its own heartbeat),
 * and acknowledges in batches: delete, back on the queue after a wait (a retry's backoff, a deferral), or
 * into the DLQ. A poller reserves room before each receive and asks for no more messages than that, so a task
 * never holds more than `capacity` messages and none waits here for a slot.
 */
import type { Logger } from "pino";
import {
  deadLetter,
  maxVisibilityS,
  messageBatchers,
  resendDelayed,
  type DeliveryQueue,
  type MessageAttributes,
} from "../aws/delivery-queue.ts";
import type { Metrics } from "../metrics.ts";

export interface Received {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** How often SQS has handed this message out (1 on the first receipt). */
  readonly receiveCount: number;
  /** Epoch ms of its first receipt: SQS allows it 12 h of visibility from then. */
  readonly firstReceivedAt: number | undefined;
  /** Its message attributes (the trace context of whoever sent it). */
  readonly attributes?: MessageAttributes;
}

export type Disposition =
  | { readonly kind: "delete" }
  /** Back on the queue, received again at `at` (epoch ms): a retry's wait, a delivery held or deferred. */
  | { readonly kind: "later"; readonly at: number }
  /** Into the dead-letter queue. */
  | { readonly kind: "dead-letter" };

/** A failure sorted by when it happened: before the POST, or after it (recording its outcome). */
export class DeliveryStageError extends Error {
  readonly stage: "before the attempt" | "after the attempt";
  constructor(stage: DeliveryStageError["stage"], cause: unknown) {
    super(`delivery failed ${stage}`, { cause });
    this.name = "DeliveryStageError";
    this.stage = stage;
  }
}

export interface SchedulerOptions {
  /** Messages held at most, all of them in flight. */
  readonly capacity: number;
  readonly visibilityTimeoutS: number;
  /** A message received this often is replaced by a fresh copy when it must wait again (the redrive limit). */
  readonly replaceAfterReceives: number;
  readonly queue: DeliveryQueue;
  readonly handle: (m: Received) => Promise<Disposition>;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
}

export interface Scheduler {
  /**
   * Waits until at least one more message may be held, then reserves room for up to `max` (what a poller may
   * then receive); rejects once the scheduler is stopping. Give the reservation back with accept or unreserve.
   */
  reserve(max: number): Promise<number>;
  unreserve(n: number): void;
  /** Takes messages a poller received against its reservation of `reserved`; each starts at once. */
  accept(messages: readonly Received[], reserved: number): void;
  /** Deliveries being worked on now. */
  inFlight(): number;
  /** Takes no more, hands back what has not started, and waits up to `deadlineMs` for the rest to finish. */
  stop(deadlineMs: number): Promise<void>;
}

export const stoppingMessage = "the worker is stopping";

/** After an unexpected failure (a backend down), the message comes back after 2^receives s, at most 5 min. */
export function failureBackoffS(receiveCount: number): number {
  return Math.min(300, 2 ** Math.min(receiveCount, 9));
}

interface Entry {
  readonly m: Received;
  /** When its visibility was last extended (or it was received). */
  extendedAt: number;
}

export function createScheduler(o: SchedulerOptions): Scheduler {
  const now = o.now ?? Date.now;
  const batch = messageBatchers(o.queue);
  const held = new Map<string, Entry>();
  const roomWaiters: { max: number; go: (n: number) => void; fail: (e: Error) => void }[] = [];
  const idleWaiters: (() => void)[] = [];
  let active = 0;
  let reserved = 0;
  let stopping = false;

  const free = () => o.capacity - held.size - reserved;
  const wakeRoom = () => {
    while (roomWaiters.length > 0 && free() > 0) {
      const w = roomWaiters.shift()!;
      const n = Math.min(w.max, free());
      reserved += n;
      w.go(n);
    }
  };

  /** Carries out a disposition; a failure here only delays the message (it reappears after its visibility). */
  const settle = async (m: Received, d: Disposition): Promise<void> => {
    if (d.kind === "delete") {
      await batch.remove(m.receiptHandle);
      return;
    }
    if (d.kind === "dead-letter") {
      // Into the DLQ before the source message goes: a crash in between leaves a duplicate, never a loss.
      await deadLetter(o.queue, m.body, m.attributes);
      await batch.remove(m.receiptHandle);
      return;
    }
    const waitS = Math.max(0, (d.at - now()) / 1000);
    const usedS = m.firstReceivedAt ? (now() - m.firstReceivedAt) / 1000 : 0;
    if (usedS + waitS < maxVisibilityS - 60 && m.receiveCount < o.replaceAfterReceives) {
      await batch.changeVisibility({ receiptHandle: m.receiptHandle, visibleInS: waitS });
      return;
    }
    await resendDelayed(o.queue, m.body, waitS, m.attributes);
    await batch.remove(m.receiptHandle);
  };

  const start = (e: Entry) => {
    active++;
    o.metrics.deliveriesInFlight.set(active);
    void o
      .handle(e.m)
      .catch((err: unknown): Disposition => {
        const stage = err instanceof DeliveryStageError ? err.stage : "before the attempt";
        o.log.warn(
          { err: err instanceof DeliveryStageError ? err.cause : err, stage },
          `delivery failed ${stage}, the message will be received again`,
        );
        return { kind: "later", at: now() + failureBackoffS(e.m.receiveCount) * 1000 };
      })
      .then((d) => settle(e.m, d))
      .catch((err: unknown) => o.log.warn({ err }, "message not acknowledged; SQS will hand it out again"))
      .finally(() => {
        active--;
        held.delete(e.m.messageId);
        o.metrics.deliveriesInFlight.set(active);
        wakeRoom();
        if (active === 0) idleWaiters.splice(0).forEach((go) => go());
      });
  };

  // The heartbeat: a message worked on for a third of its visibility gets the whole visibility again.
  const heartbeatMs = Math.max(1000, (o.visibilityTimeoutS * 1000) / 3);
  const heartbeat = setInterval(
    () => {
      const due = now() - heartbeatMs;
      for (const e of held.values()) {
        if (e.extendedAt > due) continue;
        e.extendedAt = now();
        batch
          .changeVisibility({ receiptHandle: e.m.receiptHandle, visibleInS: o.visibilityTimeoutS })
          .catch((err: unknown) => {
            o.log.warn({ err }, "visibility not extended");
          });
      }
    },
    Math.min(heartbeatMs, 5000),
  );

  const handBack = (m: Received) =>
    batch.changeVisibility({ receiptHandle: m.receiptHandle, visibleInS: 0 }).catch(() => undefined);

  return {
    reserve(max) {
      if (stopping) return Promise.reject(new Error(stoppingMessage));
      return new Promise((go, fail) => {
        roomWaiters.push({ max, go, fail });
        wakeRoom();
      });
    },
    unreserve(n) {
      reserved -= n;
      wakeRoom();
    },
    accept(messages, reservation) {
      reserved -= reservation;
      for (const m of messages) {
        if (stopping) void handBack(m);
        else {
          const e = { m, extendedAt: now() };
          held.set(m.messageId, e);
          start(e);
        }
      }
      wakeRoom();
    },
    inFlight: () => active,
    async stop(deadlineMs) {
      stopping = true;
      roomWaiters.splice(0).forEach((w) => w.fail(new Error(stoppingMessage)));
      if (active > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((go) => idleWaiters.push(go)),
          new Promise<void>((go) => (timer = setTimeout(go, deadlineMs))),
        ]);
        clearTimeout(timer);
      }
      clearInterval(heartbeat);
    },
  };
}
