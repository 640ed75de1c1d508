/**
 * The dead-letter queue as an operator sees it: a peek resolved against DynamoDB, and a filtered,
 * rate-capped requeue that loses nothing if this task dies half-way (see requeueDeadLetters).
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { problems } from "../core/errors.ts";
import type { z } from "zod";
import { parseDeliveryMessage } from "../aws/delivery-queue.ts";
import {
  deleteDeadLetter,
  queueDepth,
  receiveDeadLetters,
  releaseDeadLetters,
  type DeadLetter,
} from "../aws/dead-letters.ts";
import { oneRun, requeueAndSend, type RequeueDeps } from "./requeue.ts";
import { getEventForDelivery } from "../aws/events/read-events.ts";
import { holdLock, releaseLock } from "../aws/locks.ts";
import type { Metrics } from "../metrics.ts";
import { deadLetterView, type deadLetterPageSchema } from "./views.ts";
import { inSpan, linkTo, SpanKind } from "../tracing/spans.ts";

export interface DlqDeps extends RequeueDeps {
  /** Messages moved per second at most. */
  readonly requeueRate: number;
  /** How long one requeue runs at most before it answers (requeueBudgetMs in core/timing.ts). */
  readonly requeueBudgetMs: number;
  readonly metrics: Metrics;
}

const refOf = (m: DeadLetter) => parseDeliveryMessage(m.body);

/**
 * Receives up to `max` distinct messages, holding each for `holdS`; stops when the queue has no more to give. What
 * it received and never handed out (the caller stopped early) goes back visible at once, not after `holdS`: a
 * requeue that stopped at its time budget is repeated at once.
 */
async function* drain(deps: DlqDeps, max: number, holdS: number): AsyncGenerator<DeadLetter> {
  const seen = new Set<string>();
  let given = 0;
  let notGiven: DeadLetter[] = [];
  try {
    while (given < max) {
      const batch = (await receiveDeadLetters(deps.queue, holdS)).filter((m) => !seen.has(m.messageId));
      if (batch.length === 0) return;
      notGiven = [...batch];
      for (const m of batch) {
        seen.add(m.messageId);
        given++;
        notGiven.shift();
        yield m;
      }
    }
  } finally {
    if (notGiven.length > 0)
      await releaseDeadLetters(
        deps.queue,
        notGiven.map((m) => m.receiptHandle),
      );
  }
}

export async function peekDeadLetters(
  deps: DlqDeps,
  filter: { tenantId?: string | undefined; limit: number },
): Promise<z.input<typeof deadLetterPageSchema>> {
  const depth = await queueDepth(deps.queue, "dlq");
  const held: string[] = [];
  const data: z.input<typeof deadLetterPageSchema>["data"] = [];
  try {
    // Filtering by tenant may need to look past other tenants' messages: look at up to 10x the page.
    for await (const m of drain(deps, filter.limit * (filter.tenantId ? 10 : 1), 30)) {
      held.push(m.receiptHandle);
      const ref = refOf(m);
      if (filter.tenantId && ref?.tenantId !== filter.tenantId) continue;
      if (data.length >= filter.limit) continue;
      const d = ref ? (await getEventForDelivery(deps.store, ref))?.deliveries[ref.endpointId] : undefined;
      data.push(deadLetterView(m, ref, d));
    }
  } finally {
    // A peek consumes nothing: every message goes back visible at once.
    await releaseDeadLetters(deps.queue, held);
  }
  return { count: depth.visible + depth.in_flight, data };
}

export interface RequeueFilter {
  readonly tenantId?: string | undefined;
  readonly endpointId?: string | undefined;
  readonly eventIds?: readonly string[] | undefined;
  readonly maxMessages: number;
  readonly dryRun: boolean;
}

export interface RequeueReport {
  /** Dead deliveries put back on the delivery queue (or that would be, in a dry run). */
  moved: number;
  /** Messages that did not match the filter: left in the DLQ. */
  skipped: number;
  /** Messages that could not be moved this time: left in the DLQ. */
  failed: number;
  /** DLQ copies of deliveries no longer dead (already requeued, or a duplicate): removed. */
  stale: number;
  /** False when the run stopped at its time budget, maybe with matching messages left: run it again to go on. */
  complete: boolean;
}

const lockName = "dlq-requeue";
const lockTtlMs = 10_000;

/**
 * Moves matching messages back, one delivery at a time: first the delivery is set PENDING with a fresh
 * budget (same webhook-id), then the message is sent to the delivery queue, then the DLQ copy deleted.
 * A crash between steps leaves a PENDING delivery the sweeper delivers, or a DLQ copy that the next
 * requeue finds stale and removes; never a lost delivery, never a second POST of a delivered one.
 * Traced as `dlq requeue`, a trace of its own: each moved delivery's span links to the trace it died in.
 */
export function requeueDeadLetters(all: DlqDeps, filter: RequeueFilter, log: Logger): Promise<RequeueReport> {
  return inSpan(
    "dlq requeue",
    { attributes: { "webhook.dry_run": filter.dryRun, "webhook.max_messages": filter.maxMessages } },
    async (span) => {
      const report = await requeueRun(all, filter, log);
      span.setAttributes({
        "webhook.moved": report.moved,
        "webhook.skipped": report.skipped,
        "webhook.failed": report.failed,
        "webhook.stale": report.stale,
        "webhook.complete": report.complete,
      });
      return report;
    },
  );
}

async function requeueRun(all: DlqDeps, filter: RequeueFilter, log: Logger): Promise<RequeueReport> {
  const deps = oneRun(all);
  const owner = randomUUID();
  if (!(await holdLock(deps.store, lockName, owner, lockTtlMs, deps.now()))) {
    throw problems.conflict("A dead-letter requeue is already running; try again when it ends.");
  }
  const lock = { lost: false };
  const renew = setInterval(() => {
    holdLock(deps.store, lockName, owner, lockTtlMs, deps.now()).then(
      (held) => (lock.lost ||= !held),
      () => (lock.lost = true),
    );
  }, lockTtlMs / 3);
  const report: RequeueReport = { moved: 0, skipped: 0, failed: 0, stale: 0, complete: true };
  const held: string[] = [];
  const handled = new Set<string>();
  // Held messages stay invisible for the run's longest time, so the run never meets its own leftovers.
  const holdS = Math.ceil(Math.min(filter.maxMessages / deps.requeueRate, deps.requeueBudgetMs / 1000)) + 5;
  const started = deps.now();
  const deadline = started + deps.requeueBudgetMs;
  let matched = 0;
  try {
    for await (const m of drain(deps, filter.maxMessages * 10, holdS)) {
      const ref = refOf(m);
      const matches =
        ref !== undefined &&
        (!filter.tenantId || ref.tenantId === filter.tenantId) &&
        (!filter.endpointId || ref.endpointId === filter.endpointId) &&
        (!filter.eventIds || filter.eventIds.includes(ref.eventId));
      // Past the budget, or another task may hold the lock now: stop, leaving the rest in the DLQ.
      if (matched >= filter.maxMessages || lock.lost) {
        held.push(m.receiptHandle);
        break;
      }
      // Out of time, or would be by this one's turn at the rate: answer with what was done; the same request again
      // goes on with the rest.
      const due = filter.dryRun || !matches ? deps.now() : started + (report.moved * 1000) / deps.requeueRate;
      if (Math.max(due, deps.now()) >= deadline) {
        report.complete = false;
        held.push(m.receiptHandle);
        break;
      }
      if (!matches) {
        report.skipped++;
        held.push(m.receiptHandle);
        continue;
      }
      matched++;
      const key = `${ref.tenantId}/${ref.eventId}/${ref.endpointId}`;
      if (filter.dryRun) {
        const d = (await getEventForDelivery(deps.store, ref))?.deliveries[ref.endpointId];
        if (d?.status === "DEAD" && !handled.has(key)) report.moved++;
        else report.stale++;
        handled.add(key);
        held.push(m.receiptHandle);
        continue;
      }
      if (due > deps.now()) await new Promise((r) => setTimeout(r, due - deps.now()));
      try {
        const ids = {
          "webhook.tenant_id": ref.tenantId,
          "webhook.event_id": ref.eventId,
          "webhook.endpoint_id": ref.endpointId,
        };
        // A parent here would be wrong (the operator's requeue, days later, is not the ingestion's child): a link.
        const send = () => requeueAndSend(deps, ref, log, [ref.endpointId], ["DEAD"]);
        const requeued = handled.has(key)
          ? undefined
          : await inSpan(
              "dlq requeue delivery",
              { kind: SpanKind.PRODUCER, attributes: ids, links: linkTo(m.attributes) },
              send,
            );
        handled.add(key);
        if (requeued?.requeued.length) {
          report.moved++;
          deps.metrics.dlqRequeued.inc();
        } else report.stale++;
        await deleteDeadLetter(deps.queue, m.receiptHandle);
      } catch (err) {
        log.warn({ err, event_id: ref.eventId }, "dead letter not moved");
        report.failed++;
        held.push(m.receiptHandle);
      }
    }
  } finally {
    clearInterval(renew);
    await releaseDeadLetters(deps.queue, held);
    await releaseLock(deps.store, lockName, owner);
  }
  return report;
}
