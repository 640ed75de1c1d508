/** Sorting AWS SDK errors at the adapter boundary, so no SDK type leaks into routes or the worker. */

const unavailableNames = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalServerError",
  "InternalFailure",
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);
const unavailableCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** True when a DynamoDB/SQS call failed because the backend is unreachable or overloaded, not because of us. */
export function isBackendUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code = (err as { code?: unknown }).code;
  return unavailableNames.has(err.name) || (typeof code === "string" && unavailableCodes.has(code)) || (status ?? 0) >= 500;
}
