/**
 * What an AWS error means for a delivery to a customer's destination: its verdict (retried, throttled, permanent,
 * gone) and the text its tenant reads. Pure, on the error's code: the AWS message can name our account and role, so
 * it never reaches the tenant (it goes to our logs as the detail).
 */
import type { AttemptVerdict } from "../../core/attempt-outcome.ts";

/** An AWS error as the SDK throws it, reduced to what decides: its code and, when it had an answer, its status. */
export interface AwsFailure {
  /** The error's code (the SDK's `name`, or its query-compatible `Code`); a network error's code (`ECONNRESET`). */
  readonly code: string;
  /** The HTTP status of AWS's answer; absent when there was none (timeout, connection error). */
  readonly httpStatus?: number | undefined;
  /** The call that failed, as IAM names it (`sts:AssumeRole`, `sqs:SendMessage`). */
  readonly action: string;
}

export interface AwsFailureMeaning {
  readonly verdict: AttemptVerdict;
  /** For the tenant's attempt log: the AWS code, the call and what to do about it. */
  readonly error: string;
}

const throttling = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "KMSThrottlingException",
  "KmsThrottled",
  "SlowDown",
]);

/** The role refuses us: its trust policy, external id or permissions, or a token AWS does not take. */
const refused = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "AuthorizationError",
  "AuthorizationErrorException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "RegionDisabledException",
]);

/** The target does not exist (or not in that region or account). */
const missing = new Set([
  "NonExistentQueue",
  "AWS.SimpleQueueService.NonExistentQueue",
  "QueueDoesNotExist",
  "NotFound",
  "NotFoundException",
  "ResourceNotFoundException",
]);

/** This message can never go, whatever is retried (it is too large, or not what the service takes). */
const unsendable = new Set([
  "InvalidParameter",
  "InvalidParameterException",
  "InvalidParameterValue",
  "InvalidParameterValueException",
  "InvalidMessageContents",
  "InvalidArgumentException",
  "ValidationException",
  "ValidationError",
  "MessageTooLong",
  "AWS.SimpleQueueService.MessageTooLong",
]);

/** A KMS key of the target's encryption that we may not use, or is disabled or gone: throttling aside, the owner's. */
const kms = /^(KMS|Kms)/;

export function meaningOf(f: AwsFailure): AwsFailureMeaning {
  const { code, action } = f;
  const on = `AWS ${code} on ${action}`;
  if (f.httpStatus === undefined)
    return { verdict: "retry", error: `${action}: no answer from AWS (${noAnswer(code)})` };
  if (throttling.has(code)) return { verdict: "throttled", error: `${on}: the service throttled us; retried later` };
  if (refused.has(code)) return { verdict: "gone", error: `${on}: ${refusalAdvice(action)}` };
  if (missing.has(code)) return { verdict: "gone", error: `${on}: the target does not exist` };
  if (kms.test(code)) return { verdict: "gone", error: `${on}: the target's KMS key refuses us; check its key policy` };
  if (unsendable.has(code)) return { verdict: "permanent", error: `${on}: the service refused this message` };
  if (f.httpStatus >= 500) return { verdict: "retry", error: `${on}: the service failed; retried later` };
  // Another 4xx (a clock skew, an expired token): retried, within the schedule.
  return { verdict: "retry", error: `${on}: retried later` };
}

/** The SDK's names for a call cut by our deadline say less than "timeout" does. */
function noAnswer(code: string): string {
  return code === "TimeoutError" || code === "AbortError" || code === "RequestTimeout" ? "timeout" : code;
}

function refusalAdvice(action: string): string {
  return action === "sts:AssumeRole"
    ? "check the role's trust policy and external id"
    : `check that the role's permissions allow ${action} on the target`;
}
