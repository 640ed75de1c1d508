/**
 * One delivery, the use case: look up → gate → memory → lease → POST → record → disposition. Before the POST a
 * failure is a stage error and nothing was sent; a failed POST is an outcome, recorded and retried by the schedule;
 * after it, a failure to record is a stage error and the lease keeps any other worker from POSTing meanwhile.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { totalAttempts } from "../core/delivery-state.ts";
import { maxAttempts } from "../core/retry-policy.ts";
import { liveSecrets, type Endpoint } from "../core/tenant.ts";
import { parseDeliveryMessage, type DeliveryMessage } from "../aws/delivery-queue.ts";
import type { DeliveryKey, LeaseTurn } from "../aws/events/delivery-ops.ts";
import { attempt } from "./attempt.ts";
import { conclude, exhausted } from "./conclude.ts";
import { inStage, type DeliverDeps, type Ready } from "./deliver-deps.ts";
import type { Deferral } from "./endpoint-gate.ts";
import { passTurn, waitTurn } from "./ordering-turn.ts";
import type { Disposition, Received } from "./scheduler.ts";

const unknownDelivery = "delivery message for an unknown event or endpoint dropped";

export async function deliver(deps: DeliverDeps, msg: Received): Promise<Disposition> {
  const message = parseDeliveryMessage(msg.body);
  if (!message) {
    deps.log.warn({ body_bytes: msg.body.length }, "malformed delivery message dropped");
    return { kind: "ack" };
  }
  const key: DeliveryKey = { tenantId: message.tenantId, eventId: message.eventId, endpointId: message.endpointId };
  const log = deps.log.child({ tenant_id: key.tenantId, event_id: key.eventId, endpoint_id: key.endpointId });
  const ready = await inStage("before the attempt", key, () => prepare(deps, key, message, log));
  if (ready.kind !== "ready") return ready;
  try {
    const res = await attempt(deps, ready);
    return await inStage("after the attempt", key, () => conclude(deps, ready, res, log));
  } finally {
    // conclude hands the slot back with the answer; this frees what an exception left taken.
    ready.slot.release();
    ready.releaseMemory();
  }
}

/** What a message carries beside the delivery's key: its hints, and an ordered delivery's turn. */
type Message = Omit<DeliveryMessage, keyof DeliveryKey>;

/** Everything before the POST: the endpoint, a slot, the gate, the memory budget, the lease. */
async function prepare(deps: DeliverDeps, key: DeliveryKey, m: Message, log: Logger): Promise<Ready | Disposition> {
  const found = await lookUp(deps, key, m.tenantVersion, log);
  if (found.kind !== "found") return found;
  const cap = found.endpoint.maxInFlight ?? deps.endpointCap;
  const grant = await deps.pool.acquire({
    ...key,
    limit: () => deps.gate.limit(key.endpointId, cap),
    maxWaitMs: deps.gate.mayWait(key.endpointId) ? deps.slotWaitMs : 0,
  });
  if (!grant.ok) return defer(deps, key, deps.gate.comeback(key, grant.reason, found.endpoint.rateLimit));
  const { slot } = grant;
  try {
    // What was read before a wait for the slot may have changed meanwhile (disabled, circuit opened, secret rotated).
    const current = grant.waited ? await lookUp(deps, key, m.tenantVersion, log) : found;
    const out = current.kind === "found" ? await admitted(deps, key, current.endpoint, m, log) : current;
    if (out.kind !== "ready") slot.release();
    return out.kind === "ready" ? { ...out, slot } : out;
  } catch (err) {
    slot.release();
    throw err;
  }
}

/** The delivery's endpoint as this task knows it; or what becomes of a message whose endpoint is gone or disabled. */
async function lookUp(
  deps: DeliverDeps,
  key: DeliveryKey,
  tenantVersion: number | undefined,
  log: Logger,
): Promise<{ kind: "found"; endpoint: Endpoint } | Disposition> {
  const tenant = await deps.ops.getTenant(key.tenantId, tenantVersion);
  const endpoint = tenant?.status === "deleted" ? undefined : tenant?.endpoints[key.endpointId];
  if (!tenant || !endpoint) {
    if (await deps.ops.abandon(key, deps.now(), "tenant or endpoint deleted"))
      log.info("delivery settled: tenant or endpoint deleted");
    else log.warn(unknownDelivery);
    return { kind: "ack" };
  }
  if (tenant.status === "disabled" || !endpoint.enabled) {
    // Recorded SKIPPED, as a new event's delivery to it is: a recover sends it once the endpoint is back.
    const skipped = await deps.ops.skip(key, deps.now());
    if (skipped) {
      log.info("delivery skipped: endpoint or tenant disabled");
      await passTurn(deps, key, endpoint, skipped.orderingKey, skipped.delivery);
    }
    return { kind: "ack" };
  }
  return { kind: "found", endpoint };
}

type Admitted = Omit<Ready, "slot">;

/**
 * With a slot: the gate (circuit, rate), an ordered delivery's turn, the memory budget, then the lease, which also
 * reads the event (and says when it has an ordering key its message did not carry: the turn is taken then).
 */
async function admitted(
  deps: DeliverDeps,
  key: DeliveryKey,
  endpoint: Endpoint,
  m: Message,
  log: Logger,
): Promise<Admitted | Disposition> {
  const secrets = await deps.ops.openSecrets(key, liveSecrets(endpoint, deps.now()));
  const pass = await deps.gate.pass(key, endpoint);
  if (!pass.ok) return defer(deps, key, pass);
  if (pass.probe) log.info("circuit probe");
  let orderingKey = m.orderingKey;
  // A message sent to its lane's head is trusted as such by the lease, when it may be (LeaseTurn); else the lane says.
  let turn: LeaseTurn | undefined = orderingKey !== undefined && m.head ? "head" : undefined;
  for (;;) {
    if (orderingKey !== undefined && turn === undefined) {
      const waiting = await waitTurn(deps, key, endpoint, orderingKey, log);
      if (waiting) return waiting;
      turn = "taken";
    }
    const releaseMemory = await deps.memory.acquire(m.bodyBytes ?? deps.maxPayloadBytes);
    const leaseId = randomUUID();
    const input = { now: deps.now(), leaseId, leaseMs: deps.leaseMs, maxAttempts: maxAttempts(deps.schedule) };
    const lease = await deps.ops.takeLease(key, { ...input, turn, after: m.after }).catch((err: unknown) => {
      releaseMemory();
      throw err;
    });
    if (lease.ok) {
      const attempt = totalAttempts(lease.delivery);
      return {
        kind: "ready",
        key,
        endpoint,
        secrets,
        event: lease.event,
        leaseId,
        attempt,
        probe: pass.probe,
        releaseMemory,
      };
    }
    releaseMemory();
    switch (lease.reason) {
      case "ordered":
        if (turn === "taken") throw new Error("lease refused for want of a turn just taken");
        orderingKey = lease.orderingKey;
        turn = undefined;
        continue;
      case "leased":
      case "not-due":
        log.debug({ reason: lease.reason }, "message back on the queue until its delivery is free and due");
        return { kind: "nack", at: lease.retryAt };
      case "exhausted":
        log.warn("delivery dead: attempt budget spent by a lost worker");
        await exhausted(deps, key, lease.delivery);
        await passTurn(deps, key, endpoint, orderingKey, lease.delivery);
        return { kind: "dead-letter" };
      case "missing":
        // Sent to its lane's head, whose event is gone (taken back after a 429, or expired): the lane goes on.
        if (turn === "head") await passTurn(deps, key, endpoint, orderingKey, undefined);
        else log.warn(unknownDelivery);
        return { kind: "ack" };
      case "settled":
        // Its worker may have died between settling it and passing the turn: passing it again changes nothing else.
        if (lease.delivery) await passTurn(deps, key, endpoint, orderingKey ?? lease.orderingKey, lease.delivery);
        return { kind: "ack" };
    }
  }
}

/**
 * Not now: back without spending an attempt. A short wait is a nack (no write at all); a longer one (beyond half
 * the sweeper's grace) parks the delivery: its due time is written, its message acked, and the sweeper sends a new
 * one when it is due, so a long wait costs one receive then instead of one every few minutes.
 */
async function defer(deps: DeliverDeps, key: DeliveryKey, d: Deferral): Promise<Disposition> {
  deps.metrics.deliveriesDeferred.inc({ reason: d.reason });
  if (d.at - deps.now() <= deps.sweepGraceMs / 2) return { kind: "nack", at: d.at };
  // Parked, settled, leased by another worker or already deferred by another copy: this message is done with.
  await deps.ops.park(key, deps.now(), d.at);
  return { kind: "ack" };
}
