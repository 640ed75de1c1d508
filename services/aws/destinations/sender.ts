/**
 * The worker's sender to AWS destinations: a delivery into a customer's queue, topic, bus or stream, through their
 * role, answered in the HTTP client's shape (PostResult) so the engine records, retries and paces it as an HTTP
 * attempt. No SDK retries (the engine retries), a bounded time per delivery, and the size checked before any call.
 */
import http from "node:http";
import https from "node:https";
import type { Logger } from "pino";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { STSClient } from "@aws-sdk/client-sts";
import {
  actionOf,
  messageLimits,
  parseTarget,
  type Destination,
  type DestinationRules,
  type Target,
} from "../../core/destination.ts";
import type { PostResult } from "../../outbound/guarded-client.ts";
import { meaningOf } from "./aws-errors.ts";
import { messageBytes, put, type DestinationMessage, type ServiceClient } from "./messages.ts";
import { assumeRole, createRoleSessions, type RoleCredentials } from "./role-sessions.ts";

export type { DestinationMessage } from "./messages.ts";

export interface DestinationSenderOptions {
  /** Emulators only (AWS_ENDPOINT_URL_DESTINATIONS): the four services are called here instead of AWS. */
  readonly endpointUrl?: string | undefined;
  /** Where STS is called. @default endpointUrl (AWS's regional STS when neither is set) */
  readonly stsEndpointUrl?: string | undefined;
  /** false on an emulator without STS only (DESTINATION_ASSUME_ROLE): the services are called as the worker. @default true */
  readonly assumeRoles?: boolean | undefined;
  /** The worker's region: its regional STS endpoint. */
  readonly region: string;
  /** The `source` of events put on a customer's bus (EVENTBRIDGE_SOURCE). */
  readonly eventBridgeSource: string;
  /** What a stored target must still be at delivery (the platform's account is never one). */
  readonly rules: DestinationRules;
  /** Bound on one delivery, AssumeRole included (DELIVERY_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /**
   * The worker's own identity, used only to call STS (tests and emulators, as createAwsClients takes one); the SDK's
   * default chain when absent. Never a customer's: their services are called only with credentials STS handed out.
   */
  readonly platformCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  readonly now: () => number;
  readonly log: Logger;
}

export interface DestinationSender {
  send(dest: Destination, message: DestinationMessage): Promise<PostResult>;
  close(): void;
}

/** A call that failed, with the IAM action it was (AssumeRole's failure is not the target's). */
class CallError extends Error {
  readonly action: string;
  constructor(action: string, cause: unknown) {
    super(`${action} failed`, { cause });
    this.name = "CallError";
    this.action = action;
  }
}

export function createDestinationSender(o: DestinationSenderOptions): DestinationSender {
  const agents = { httpAgent: new http.Agent({ keepAlive: true }), httpsAgent: new https.Agent({ keepAlive: true }) };
  const timeouts = { connectionTimeout: Math.min(o.timeoutMs, 5000), requestTimeout: o.timeoutMs };
  const stsEndpoint = o.stsEndpointUrl ?? o.endpointUrl;
  // maxAttempts 1: a failure is an attempt, and the engine's schedule retries it.
  const sts = new STSClient({
    maxAttempts: 1,
    requestHandler: { ...agents, ...timeouts, throwOnRequestTimeout: true },
    region: o.region,
    ...(stsEndpoint ? { endpoint: stsEndpoint } : {}),
    ...(o.platformCredentials ? { credentials: o.platformCredentials } : {}),
  });
  // Every session's client shares STS's HTTP/1.1 handler: one connection pool for all (a client per session, not a
  // pool per session), and Kinesis's own default, HTTP/2, reaches no emulator. So no session's client is destroyed.
  const common = { maxAttempts: 1, requestHandler: sts.config.requestHandler };
  const sessions = createRoleSessions<ServiceClient>({
    async assume(d, t, tenantId) {
      if (o.assumeRoles === false) return undefined;
      const credentials = await assumeRole(sts, d, t, tenantId).catch((err: unknown) => {
        throw new CallError("sts:AssumeRole", err);
      });
      o.log.debug({ role_arn: d.roleArn, target: t.arn }, "destination role assumed");
      return credentials;
    },
    clientFor: (t, credentials) => serviceClient(t, credentials ?? o.platformCredentials, common, o.endpointUrl),
    now: o.now,
  });

  return {
    async send(dest, message) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const target = parseTarget(dest.type, dest.target, o.rules);
      if (typeof target === "string")
        return refusal(`refused: the ${dest.type} target ${target}`, "permanent", elapsed());
      const size = messageBytes(target, message, o.eventBridgeSource);
      const limit = messageLimits[dest.type];
      // Too large for the service now is too large for it on every retry: never sent, but the endpoint is fine.
      if (size > limit)
        return refusal(`payload of ${size} bytes exceeds ${dest.type}'s ${limit}-byte limit`, "permanent", elapsed());
      const deadline = AbortSignal.timeout(o.timeoutMs);
      try {
        const client = await sessions.client(dest, target, message.tenantId);
        const said = await put(client, target, message, o.eventBridgeSource, deadline).catch((err: unknown) => {
          throw new CallError(actionOf[dest.type], err);
        });
        return { statusCode: 200, headers: {}, bodyExcerpt: said, durationMs: elapsed() };
      } catch (err) {
        return failed(err, target, elapsed());
      }
    },
    close() {
      sts.destroy();
      agents.httpAgent.destroy();
      agents.httpsAgent.destroy();
    },
  };
}

type Credentials = Pick<RoleCredentials, "accessKeyId" | "secretAccessKey"> & { readonly sessionToken?: string };
type Common = { maxAttempts: number; requestHandler: STSClient["config"]["requestHandler"] };

/** The target's service client under a session's credentials (the worker's own without a role), in its region. */
function serviceClient(
  t: Target,
  c: Credentials | undefined,
  common: Common,
  endpoint: string | undefined,
): ServiceClient {
  const credentials = c && {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    sessionToken: c.sessionToken,
  };
  const config = {
    ...common,
    region: t.region,
    ...(credentials ? { credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
  switch (t.type) {
    case "aws_sqs":
      // On an emulator, the queue URL's host may not be the emulator's: always talk to the configured endpoint.
      return { type: t.type, client: new SQSClient({ ...config, useQueueUrlAsEndpoint: endpoint === undefined }) };
    case "aws_sns":
      return { type: t.type, client: new SNSClient(config) };
    case "aws_eventbridge":
      return { type: t.type, client: new EventBridgeClient(config) };
    case "aws_kinesis":
      return { type: t.type, client: new KinesisClient(config) };
  }
}

function refusal(error: string, verdict: PostResult["verdict"], durationMs: number): PostResult {
  return { headers: {}, bodyExcerpt: "", durationMs, error, errorDetail: error, verdict };
}

/** An AWS error as an attempt: the tenant reads its code and our explanation; the AWS message is for our logs. */
function failed(err: unknown, t: Target, durationMs: number): PostResult {
  const action = err instanceof CallError ? err.action : actionOf[t.type];
  const cause = err instanceof CallError ? err.cause : err;
  const { code, httpStatus, message } = awsErrorOf(cause);
  const meaning = meaningOf({ code, httpStatus, action });
  const errorDetail = `${action} on ${t.arn}: ${code}${httpStatus ? ` (HTTP ${httpStatus})` : ""}: ${message}`;
  return { headers: {}, bodyExcerpt: "", durationMs, error: meaning.error, errorDetail, verdict: meaning.verdict };
}

/** The parts of what the SDK threw that decide: its code (an AWS error's name, else a network code) and status. */
export function awsErrorOf(err: unknown): { code: string; httpStatus?: number | undefined; message: string } {
  if (typeof err !== "object" || err === null) return { code: "Error", message: String(err) };
  const e = err as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const httpStatus = typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined;
  const name = typeof e.name === "string" ? e.name : "Error";
  // A network error has no AWS name worth showing (Error): its system code says more.
  const code = httpStatus === undefined && typeof e.code === "string" ? e.code : name;
  return { code, httpStatus, message: typeof e.message === "string" ? e.message : "" };
}
