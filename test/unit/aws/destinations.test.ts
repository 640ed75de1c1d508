/**
 * The AWS destination sender's pure parts: what each AWS error means for a delivery (and what its tenant reads), the
 * role sessions' cache (one AssumeRole per destination until shortly before expiry, shared while in flight, failures
 * not kept), and each message's attributes, detail and size.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { meaningOf } from "../../../services/aws/destinations/aws-errors.ts";
import { attributesOf, eventBridgeDetail, messageBytes } from "../../../services/aws/destinations/messages.ts";
import {
  createRoleSessions,
  renewBeforeMs,
  sessionName,
  type RoleCredentials,
} from "../../../services/aws/destinations/role-sessions.ts";
import { awsErrorOf, createDestinationSender } from "../../../services/aws/destinations/sender.ts";
import { parseTarget, type Destination, type Target } from "../../../services/core/destination.ts";

const answered = (code: string, httpStatus = 400, action = "sqs:SendMessage") =>
  meaningOf({ code, httpStatus, action });

describe("what an AWS error means", () => {
  it("throttling is retried as a 429 is", () => {
    for (const code of [
      "ThrottlingException",
      "Throttling",
      "RequestThrottled",
      "ProvisionedThroughputExceededException",
      "KMSThrottlingException",
      "TooManyRequestsException",
      "SlowDown",
    ])
      expect(answered(code).verdict, code).toBe("throttled");
  });

  it("a refusing role, a missing target or a KMS key we may not use: gone, as a 410 (the endpoint is disabled)", () => {
    for (const code of [
      "AccessDenied",
      "AccessDeniedException",
      "AuthorizationError",
      "InvalidClientTokenId",
      "AWS.SimpleQueueService.NonExistentQueue",
      "QueueDoesNotExist",
      "NotFound",
      "NotFoundException",
      "ResourceNotFoundException",
      "KMS.AccessDeniedException",
      "KmsAccessDenied",
      "KMSDisabledException",
    ])
      expect(answered(code).verdict, code).toBe("gone");
  });

  it("no answer (timeout, connection) and 5xx are retried; a message the service refuses is not", () => {
    expect(meaningOf({ code: "ECONNRESET", action: "sns:Publish" })).toEqual({
      verdict: "retry",
      error: "sns:Publish: no answer from AWS (ECONNRESET)",
    });
    expect(meaningOf({ code: "TimeoutError", action: "sqs:SendMessage" }).error).toBe(
      "sqs:SendMessage: no answer from AWS (timeout)",
    );
    expect(answered("InternalError", 500).verdict).toBe("retry");
    expect(answered("ServiceUnavailable", 503).verdict).toBe("retry");
    expect(answered("InvalidParameterValue").verdict).toBe("permanent");
  });

  it("tells the tenant the AWS code, the call and what to check, never AWS's own message", () => {
    expect(answered("AccessDenied", 403, "sts:AssumeRole").error).toBe(
      "AWS AccessDenied on sts:AssumeRole: check the role's trust policy and external id",
    );
    expect(answered("AccessDeniedException", 400, "events:PutEvents").error).toBe(
      "AWS AccessDeniedException on events:PutEvents: check that the role's permissions allow events:PutEvents on the target",
    );
    // The wrong external id: STS answers AccessDenied, which moto (no trust policies) cannot show end to end.
    expect(answered("AccessDenied", 403, "sts:AssumeRole").verdict).toBe("gone");
  });

  it("reads the code and status from what the SDK throws; a network error by its system code", () => {
    const sdk = Object.assign(new Error("User: arn:aws:sts::123456789012:assumed-role/x is not authorized"), {
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
    });
    expect(awsErrorOf(sdk)).toMatchObject({ code: "AccessDenied", httpStatus: 403 });
    const net = Object.assign(new Error("socket hang up"), { code: "ECONNRESET", $metadata: {} });
    expect(awsErrorOf(net)).toEqual({ code: "ECONNRESET", httpStatus: undefined, message: "socket hang up" });
    expect(awsErrorOf("odd")).toEqual({ code: "Error", message: "odd" });
  });
});

const rules = { regions: [] };
const sqs = parseTarget("aws_sqs", "https://sqs.eu-west-1.amazonaws.com/111111111111/orders", rules) as Target;
const dest: Destination = {
  type: "aws_sqs",
  target: sqs.queueUrl!,
  roleArn: "arn:aws:iam::111111111111:role/r",
  externalId: "whx_a",
};

function sessions(answers: (() => Promise<RoleCredentials>)[]) {
  let now = 1_000_000;
  const calls: string[] = [];
  const made: (RoleCredentials | undefined)[] = [];
  const s = createRoleSessions({
    assume: (_d, _t, tenantId) => (calls.push(tenantId), answers[calls.length - 1]!()),
    clientFor: (_t, c) => (made.push(c), { credentials: c }),
    now: () => now,
  });
  return { s, calls, made, advance: (ms: number) => (now += ms), now: () => now };
}
const creds = (expiresAt: number, id = "ASIA1"): RoleCredentials => ({
  accessKeyId: id,
  secretAccessKey: "s",
  sessionToken: "t",
  expiresAt,
});

describe("role sessions", () => {
  it("assumes once for concurrent deliveries and reuses the client until shortly before expiry", async () => {
    const w = sessions([async () => creds(1_000_000 + 900_000, "A"), async () => creds(2_000_000 + 900_000, "B")]);
    const [a, b] = await Promise.all([w.s.client(dest, sqs, "ten_1"), w.s.client(dest, sqs, "ten_1")]);
    expect(a).toBe(b);
    expect(w.calls).toEqual(["ten_1"]);
    w.advance(900_000 - renewBeforeMs - 1);
    expect(await w.s.client(dest, sqs, "ten_1")).toBe(a);
    w.advance(2);
    const renewed = await w.s.client(dest, sqs, "ten_1");
    expect(renewed).not.toBe(a);
    expect(w.made.map((c) => c?.accessKeyId)).toEqual(["A", "B"]);
  });

  it("does not keep a failed AssumeRole: the next delivery asks again", async () => {
    const denied = Object.assign(new Error("denied"), { name: "AccessDenied" });
    const w = sessions([() => Promise.reject(denied), async () => creds(1_000_000 + 900_000)]);
    await expect(w.s.client(dest, sqs, "ten_1")).rejects.toBe(denied);
    await expect(w.s.client(dest, sqs, "ten_1")).resolves.toBeDefined();
    expect(w.calls).toHaveLength(2);
  });

  it("keeps one session per role, external id and target", async () => {
    const w = sessions([1, 2, 3].map(() => async () => creds(1_000_000 + 900_000)));
    await w.s.client(dest, sqs, "ten_1");
    await w.s.client({ ...dest, externalId: "whx_b" }, sqs, "ten_1");
    await w.s.client({ ...dest, roleArn: `${dest.roleArn}2` }, sqs, "ten_1");
    await w.s.client(dest, sqs, "ten_1");
    expect(w.calls).toHaveLength(3);
  });

  it("names the session for the tenant, within STS's 64 characters and alphabet", () => {
    expect(sessionName("ten_01H")).toBe("webhooks-ten_01H");
    const long = sessionName(`ten_${"x".repeat(80)} /`);
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^[\w+=,.@-]+$/);
  });
});

describe("the message", () => {
  const signatureHeaders = {
    "webhook-id": "msg_1",
    "webhook-timestamp": "1700000000",
    "webhook-signature": "v1,abc",
    "stripe-signature": "t=1700000000,v1=def",
  };
  const m = {
    body: Buffer.from('{"a":1}'),
    signatureHeaders,
    eventType: "order.paid",
    eventId: "evt_1",
    tenantId: "t",
  };

  it("carries the webhook id, timestamp, both signatures and the event type as attributes", () => {
    expect(attributesOf(m)).toEqual({ ...signatureHeaders, "event-type": "order.paid" });
    expect(attributesOf({ ...m, eventType: "" })).not.toHaveProperty("event-type");
  });

  it("puts a JSON object as EventBridge's detail as it is, anything else under data", () => {
    expect(eventBridgeDetail(Buffer.from('{"a":1}'))).toBe('{"a":1}');
    expect(JSON.parse(eventBridgeDetail(Buffer.from("[1,2]")))).toEqual({ data: "[1,2]" });
    expect(JSON.parse(eventBridgeDetail(Buffer.from("plain text")))).toEqual({ data: "plain text" });
  });

  it("counts the body and what each service adds against its limit", () => {
    const attrs = Object.entries(attributesOf(m)).reduce((n, [k, v]) => n + k.length + 6 + v.length, 0);
    expect(messageBytes(sqs, m, "webhooks")).toBe(7 + attrs);
    const stream = parseTarget("aws_kinesis", "arn:aws:kinesis:eu-west-1:111111111111:stream/s", rules) as Target;
    expect(messageBytes(stream, { ...m, orderingKey: "key" }, "webhooks")).toBe(7 + 3);
  });
});

describe("the sender, before any call", () => {
  const sender = () =>
    createDestinationSender({
      // Nothing listens here: a test that reached the network would fail with no answer, not the refusal expected.
      endpointUrl: "http://127.0.0.1:9",
      region: "eu-west-1",
      eventBridgeSource: "webhooks",
      rules: { regions: [], platformAccountId: "123456789012" },
      timeoutMs: 1000,
      now: Date.now,
      log: pino({ level: "silent" }),
    });
  const topic = "arn:aws:sns:eu-west-1:111111111111:orders";
  const message = (bytes: number) => ({
    body: Buffer.alloc(bytes, "a"),
    signatureHeaders: { "webhook-id": "msg_1" },
    eventType: "order.paid",
    eventId: "evt_1",
    tenantId: "ten_1",
  });

  it("refuses a message over the service's limit: permanent, and not the endpoint's fault", async () => {
    const s = sender();
    const res = await s.send({ ...dest, type: "aws_sns", target: topic }, message(262_144));
    s.close();
    expect([res.statusCode, res.verdict]).toEqual([undefined, "permanent"]);
    expect(res.error).toMatch(/^payload of 2621\d\d bytes exceeds aws_sns's 262144-byte limit$/);
  });

  it("refuses a stored target in the platform's own account, whatever the API let through then", async () => {
    const s = sender();
    const ours = { ...dest, type: "aws_sns" as const, target: "arn:aws:sns:eu-west-1:123456789012:ours" };
    const res = await s.send(ours, message(10));
    s.close();
    expect(res).toMatchObject({ verdict: "permanent", error: expect.stringContaining("platform's own AWS account") });
  });
});
