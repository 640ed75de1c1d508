/**
 * The scheduler owns every received message until its disposition is carried out: it starts each delivery on its
 * own as soon as it arrives (no delivery waits for another), keeps the messages it owns invisible while they are
 * worked on (its heartbeat), and carries out each disposition: ack, nack until a time, or dead-letter. A poller
 * reserves room before each receive and asks for no more messages than that, so a task never owns more than its
 * capacity and none waits here to start.
 */
import type { Logger } from "pino";
import { maxVisibilityS, type MessageAcks, type MessageAttributes } from "../aws/delivery-queue.ts";
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
  /** Delete the message: nothing more to do for it. */
  | { readonly kind: "ack" }
  /** Visible again at `at` (epoch ms): a retry's backoff, or a short deferral. */
  | { readonly kind: "nack"; readonly at: number }
  /** Into the dead-letter queue. */
  | { readonly kind: "dead-letter" };

export interface SchedulerOptions {
  /** Messages owned at most, all of them in flight. */
  readonly capacity: number;
  readonly visibilityTimeoutS: number;
  /** A message received this often is replaced by a fresh copy when it must wait again (the redrive limit). */
  readonly replaceAfterReceives: number;
  readonly acks: MessageAcks;
  readonly handle: (m: Received) => Promise<Disposition>;
  readonly log: Logger;
  readonly metrics: Pick<Metrics, "deliveriesInFlight">;
  readonly now?: () => number;
}

export interface Scheduler {
  /**
   * Waits until at least one more message may be owned, then reserves room for up to `max` (what a poller may
   * then receive); rejects once the scheduler is stopping. Give the reservation back with accept or unreserve.
   */
  reserve(max: number): Promise<number>;
  unreserve(n: number): void;
  /** Takes messages a poller received against its reservation of `reserved`; each starts at once. */
  accept(messages: readonly Received[], reserved: number): void;
  /** Deliveries being worked on now. */
  inFlight(): number;
  /** Takes no more, hands back what is accepted from now on, and waits up to `deadlineMs` for the rest to finish. */
  stop(deadlineMs: number): Promise<void>;
}

export const stoppingMessage = "the worker is stopping";

/** After an unexpected failure (a backend down), the message comes back after 2^receives s, at most 5 min. */
export function failureBackoffS(receiveCount: number): number {
  return Math.min(300, 2 ** Math.min(receiveCount, 9));
}

interface Owned {
  readonly m: Received;
  /** When its visibility was last extended (or it was received). */
  extendedAt: number;
}

/** Carries out a disposition; a failure here only delays the message (it reappears after its visibility). */
async function carryOut(o: SchedulerOptions, now: () => number, m: Received, d: Disposition): Promise<void> {
  if (d.kind === "ack") {
    await o.acks.ack(m.receiptHandle);
    return;
  }
  if (d.kind === "dead-letter") {
    // Into the DLQ before the source message goes: a crash in between leaves a duplicate, never a loss.
    await o.acks.deadLetter(m.body, m.attributes);
    await o.acks.ack(m.receiptHandle);
    return;
  }
  const waitS = Math.max(0, (d.at - now()) / 1000);
  const usedS = m.firstReceivedAt ? (now() - m.firstReceivedAt) / 1000 : 0;
  if (usedS + waitS < maxVisibilityS - 60 && m.receiveCount < o.replaceAfterReceives) {
    await o.acks.nack({ receiptHandle: m.receiptHandle, visibleInS: waitS });
    return;
  }
  // Its 12 h of visibility or its receives towards the redrive limit are nearly spent: a fresh copy instead.
  await o.acks.resend(m.body, waitS, m.attributes);
  await o.acks.ack(m.receiptHandle);
}

/**
 * The heartbeat: a message worked on for a third of its visibility gets the whole visibility again. It looks every
 * sixth (at most every 5 s), so an extension comes at most half the visibility after the last: the rest is margin
 * for a busy event loop.
 */
function startHeartbeat(o: SchedulerOptions, now: () => number, owned: ReadonlyMap<string, Owned>): NodeJS.Timeout {
  const heartbeatMs = (o.visibilityTimeoutS * 1000) / 3;
  return setInterval(
    () => {
      const due = now() - heartbeatMs;
      for (const e of owned.values()) {
        if (e.extendedAt > due) continue;
        e.extendedAt = now();
        o.acks.nack({ receiptHandle: e.m.receiptHandle, visibleInS: o.visibilityTimeoutS }).catch((err: unknown) => {
          o.log.warn({ err }, "visibility not extended");
        });
      }
    },
    Math.min(heartbeatMs / 2, 5000),
  );
}

export function createScheduler(o: SchedulerOptions): Scheduler {
  const now = o.now ?? Date.now;
  const owned = new Map<string, Owned>();
  const roomWaiters: { max: number; go: (n: number) => void; fail: (e: Error) => void }[] = [];
  const idleWaiters: (() => void)[] = [];
  let reserved = 0;
  let stopping = false;

  const free = () => o.capacity - owned.size - reserved;
  const wakeRoom = () => {
    while (roomWaiters.length > 0 && free() > 0) {
      const w = roomWaiters.shift()!;
      const n = Math.min(w.max, free());
      reserved += n;
      w.go(n);
    }
  };

  const start = (e: Owned) => {
    o.metrics.deliveriesInFlight.set(owned.size);
    void o
      .handle(e.m)
      .catch((err: unknown): Disposition => {
        const stage = err instanceof Error && "stage" in err ? err.stage : "before the attempt";
        const ids = err instanceof Error && "ids" in err && typeof err.ids === "object" ? err.ids : {};
        const cause = err instanceof Error ? (err.cause ?? err) : err;
        o.log.warn({ err: cause, stage, ...ids }, "delivery failed, will come back");
        return { kind: "nack", at: now() + failureBackoffS(e.m.receiveCount) * 1000 };
      })
      .then((d) => carryOut(o, now, e.m, d))
      .catch((err: unknown) => o.log.warn({ err }, "message not acknowledged; SQS will hand it out again"))
      .finally(() => {
        owned.delete(e.m.messageId);
        o.metrics.deliveriesInFlight.set(owned.size);
        wakeRoom();
        if (owned.size === 0) idleWaiters.splice(0).forEach((go) => go());
      });
  };

  const heartbeat = startHeartbeat(o, now, owned);

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
        // Received while stopping: straight back to the queue for another worker.
        if (stopping) void o.acks.nack({ receiptHandle: m.receiptHandle, visibleInS: 0 }).catch(() => undefined);
        else {
          const e = { m, extendedAt: now() };
          owned.set(m.messageId, e);
          start(e);
        }
      }
      wakeRoom();
    },
    inFlight: () => owned.size,
    async stop(deadlineMs) {
      stopping = true;
      roomWaiters.splice(0).forEach((w) => w.fail(new Error(stoppingMessage)));
      if (owned.size > 0) {
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
