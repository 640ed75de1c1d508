/** Timeouts that the services, the queue, the load balancer and the container runtimes must agree on, derived here once. */

/** The load balancer's idle timeout: a DLQ requeue answers only when it is done, up to 5 minutes later. */
export const albIdleTimeoutS = 300;

/**
 * The API's HTTP keep-alive, longer than the load balancer's idle timeout: the ALB, never Node, closes an idle
 * connection, so the ALB cannot forward a request onto a socket Node is closing (a 502). Node 22 does not count
 * an idle keep-alive connection against headersTimeout, so HEADERS_TIMEOUT_MS can stay short (a test shows it).
 */
export const apiKeepAliveTimeoutMs = (albIdleTimeoutS + 5) * 1000;

/** How long the API finishes open requests after SIGTERM before it exits. */
export const apiShutdownDeadlineMs = 25_000;

/** Room after a POST's timeout to record its attempt and outcome. */
const bookkeepingMs = 5000;

/**
 * A delivery's lease: its POST (at most the delivery timeout) and the bookkeeping after it. The queue's visibility
 * timeout must be at least this, or SQS would hand the message to a second worker mid-delivery.
 */
export function leaseMs(deliveryTimeoutMs: number): number {
  return deliveryTimeoutMs + bookkeepingMs;
}

/** The least visibility timeout the queue may have for this delivery timeout, in whole seconds. */
export function minVisibilityTimeoutS(deliveryTimeoutMs: number): number {
  return Math.ceil(leaseMs(deliveryTimeoutMs) / 1000);
}

/** How long the worker waits after SIGTERM for the deliveries in flight: each ends within its lease. */
export function workerDrainMs(deliveryTimeoutMs: number): number {
  return leaseMs(deliveryTimeoutMs) + 5000;
}

/**
 * How long a poller may go without finishing a receive or being given room for one before the worker calls itself
 * unhealthy (and the container runtime replaces it): a long poll, and room that frees within a lease (every
 * delivery holding it ends by then), twice over, with a minute's margin for a slow SQS answer and its retries.
 */
export function pollerStallMs(deliveryTimeoutMs: number, waitTimeSeconds: number): number {
  return 2 * (leaseMs(deliveryTimeoutMs) + waitTimeSeconds * 1000) + 60_000;
}

/** When the worker exits after SIGTERM whatever is left: the drain and the pollers' stop, with margin. */
export function workerShutdownDeadlineMs(deliveryTimeoutMs: number): number {
  return workerDrainMs(deliveryTimeoutMs) + 10_000;
}

/** Fargate's longest stop timeout: the worker's shutdown deadline must fit in it. */
export const fargateMaxStopTimeoutS = 120;

/** The longest delivery timeout whose drain still fits Fargate's stop timeout. */
export const maxDeliveryTimeoutMs = fargateMaxStopTimeoutS * 1000 - workerShutdownDeadlineMs(0);

/**
 * The queue's redrive limit: well above the attempt count, because a message is also received when it arrives
 * early, finds its delivery leased, or was deferred; redrive only catches messages that crash workers. A worker
 * replaces a message by a fresh copy before half of this, so waiting never reaches it.
 */
export function redriveMaxReceiveCount(maxAttempts: number): number {
  return maxAttempts * 3 + 10;
}
