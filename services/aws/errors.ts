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
const unavailableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** True when a DynamoDB/SQS call failed because the backend is unreachable or overloaded, not because of us. */
export function isBackendUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code = (err as { code?: unknown }).code;
  return (
    unavailableNames.has(err.name) || (typeof code === "string" && unavailableCodes.has(code)) || (status ?? 0) >= 500
  );
}

function named(err: unknown, names: readonly string[]): boolean {
  return err instanceof Error && names.includes(err.name);
}

/** A conditional write whose condition did not hold (another writer won, or the guarded state moved on). */
export function isConditionFailure(err: unknown): boolean {
  return named(err, ["ConditionalCheckFailedException"]);
}

/** A request DynamoDB refused as malformed (a bad key value, such as a forged start key). */
export function isValidationError(err: unknown): boolean {
  return named(err, ["ValidationException"]);
}

/** CreateTable of a table that exists. */
export function isTableExists(err: unknown): boolean {
  return named(err, ["ResourceInUseException"]);
}

// SQS answers in the JSON protocol with an error code that the SDK reports under either spelling,
// depending on the service (AWS, LocalStack, each emulator): accept both.
/** GetQueueUrl (or any call) on a queue that does not exist. */
export function isQueueMissing(err: unknown): boolean {
  return named(err, ["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "NonExistentQueue"]);
}
