/**
 * The endpoint after an attempt, written once if anything changed: its health (the failure window and disabling,
 * a 410), and the pacing change the gate decided (the circuit tripped, a probe's result, the limit it was cut to);
 * then the circuit's transition in metrics and logs, and `endpoint.disabled` announced by the worker that disabled it.
 */
import type { Logger } from "pino";
import type { AttemptOutcome } from "../core/delivery-state.ts";
import { applyPacingChange, type PacingChange } from "../core/endpoint-pacing.ts";
import { endpointAfterAttempt, type Endpoint } from "../core/tenant.ts";
import type { PostResult } from "../outbound/guarded-client.ts";
import type { DeliverDeps, Ready } from "./deliver-deps.ts";

export interface AttemptSeen {
  readonly res: PostResult;
  readonly outcome: AttemptOutcome;
  readonly change: PacingChange | undefined;
}

/**
 * endpointAfterAttempt words a gone endpoint's reason as a 410's; an AWS destination's target or role is gone in its
 * own words (the AWS error), which its owner needs to fix it.
 */
function goneBecause(next: Endpoint | undefined, e: Endpoint, outcome: AttemptOutcome, now: number) {
  if (!next || next.enabled || !e.enabled || outcome.kind !== "failed" || !outcome.gone) return next;
  if (outcome.statusCode === 410) return next;
  return { ...next, disabledReason: `${outcome.error} (at ${new Date(now).toISOString()})` };
}

export async function endpointStep(deps: DeliverDeps, r: Ready, seen: AttemptSeen, log: Logger): Promise<void> {
  const now = deps.now();
  const { outcome, change } = seen;
  const health = {
    ok: outcome.kind === "delivered",
    gone: outcome.kind === "failed" && outcome.gone === true,
    now,
    disableAfterMs: deps.disableAfterMs,
  };
  // The change may run more than once (a race retries it): its last run says whether this write disabled it.
  const transition = { disabled: false };
  const changes = (e: Endpoint): Endpoint | undefined => {
    const healthier = goneBecause(endpointAfterAttempt(e, health), e, outcome, now);
    transition.disabled = e.enabled && healthier?.enabled === false;
    const current = healthier ?? e;
    return (change && applyPacingChange(current, change, now)) ?? healthier;
  };
  // The cached endpoint says whether anything changes; only then is the tenant read again and written.
  if (!changes(r.endpoint)) return;
  const stored = await deps.ops.changeEndpoint(r.key, changes);
  const was = r.endpoint.circuit?.state ?? "closed";
  const is = stored?.circuit?.state ?? "closed";
  if (was !== is) {
    deps.metrics.circuitTransitions.inc({ to: is });
    const message = is === "open" ? "circuit opened: deliveries to this endpoint are deferred" : "circuit closed";
    log.warn({ reason: stored?.circuit?.reason }, message);
  }
  if (stored && transition.disabled) {
    log.warn({ reason: stored.disabledReason }, "endpoint disabled");
    const data = {
      tenant_id: r.key.tenantId,
      endpoint_id: r.key.endpointId,
      reason: stored.disabledReason ?? "",
      last_status_code: seen.res.statusCode ?? null,
    };
    await deps.ops.notify({ type: "endpoint.disabled", data });
  }
}
