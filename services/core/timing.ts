/** Timeouts that the services, the load balancer and the container runtimes must agree on, derived here once. */

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

/** How long the worker drains after SIGTERM: in-flight POSTs end within the delivery timeout, then their bookkeeping. */
export function workerShutdownDeadlineMs(deliveryTimeoutMs: number): number {
  return deliveryTimeoutMs + 20_000;
}
