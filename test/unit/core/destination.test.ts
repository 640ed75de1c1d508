import { describe, expect, it } from "vitest";
import {
  customerPolicies,
  newExternalId,
  parseTarget,
  roleArnProblem,
  sessionPolicy,
  sizeProblem,
  type Target,
} from "../../../services/core/destination.ts";

const rules = { regions: [] as string[], platformAccountId: "123456789012" };
const target = (t: Target | string) => {
  if (typeof t === "string") throw new Error(t);
  return t;
};

describe("AWS destination targets", () => {
  it("reads an SQS queue URL as its region, account and ARN; FIFO by its name", () => {
    expect(parseTarget("aws_sqs", "https://sqs.eu-west-1.amazonaws.com/111111111111/orders", rules)).toEqual({
      type: "aws_sqs",
      partition: "aws",
      region: "eu-west-1",
      accountId: "111111111111",
      arn: "arn:aws:sqs:eu-west-1:111111111111:orders",
      queueUrl: "https://sqs.eu-west-1.amazonaws.com/111111111111/orders",
      fifo: false,
    });
    const cn = target(parseTarget("aws_sqs", "https://sqs.cn-north-1.amazonaws.com.cn/111111111111/o.fifo", rules));
    expect([cn.partition, cn.arn, cn.fifo]).toEqual(["aws-cn", "arn:aws-cn:sqs:cn-north-1:111111111111:o.fifo", true]);
  });

  it("takes a loopback queue URL only on the local stack, in its region", () => {
    const local = "http://127.0.0.1:4566/000000000000/orders";
    expect(parseTarget("aws_sqs", local, rules)).toMatch(/must be an SQS queue URL/);
    expect(target(parseTarget("aws_sqs", local, { ...rules, localRegion: "us-east-1" })).arn).toBe(
      "arn:aws:sqs:us-east-1:000000000000:orders",
    );
    const fauxqs = "http://sqs.us-east-1.localhost:4566/000000000000/orders";
    expect(target(parseTarget("aws_sqs", fauxqs, { ...rules, localRegion: "us-east-1" })).queueUrl).toBe(fauxqs);
    expect(
      parseTarget("aws_sqs", "http://sqs.localhost.example/000000000000/orders", {
        ...rules,
        localRegion: "us-east-1",
      }),
    ).toMatch(/must be/);
    // Any other host over http, or a look-alike of AWS's, is not a queue URL.
    for (const bad of [
      "http://sqs.eu-west-1.amazonaws.com/111111111111/orders",
      "https://sqs.eu-west-1.amazonaws.com.evil.example/111111111111/orders",
      "https://sqs.eu-west-1.amazonaws.com:8443/111111111111/orders",
      "https://sqs.eu-west-1.amazonaws.com/111111111111/orders?x=1",
      "https://user@sqs.eu-west-1.amazonaws.com/111111111111/orders",
      "https://sqs.eu-west-1.amazonaws.com/1111/orders",
      "https://sqs.eu-west-1.amazonaws.com/111111111111/a/b",
    ])
      expect(parseTarget("aws_sqs", bad, { ...rules, localRegion: "us-east-1" }), bad).toMatch(/must be/);
  });

  it("reads topic, bus and stream ARNs of their own service only", () => {
    expect(target(parseTarget("aws_sns", "arn:aws:sns:us-east-2:111111111111:orders.fifo", rules)).fifo).toBe(true);
    expect(target(parseTarget("aws_eventbridge", "arn:aws:events:us-east-2:111111111111:event-bus/b", rules)).arn).toBe(
      "arn:aws:events:us-east-2:111111111111:event-bus/b",
    );
    expect(target(parseTarget("aws_kinesis", "arn:aws:kinesis:us-east-2:111111111111:stream/s", rules)).region).toBe(
      "us-east-2",
    );
    expect(parseTarget("aws_sns", "arn:aws:sqs:us-east-2:111111111111:orders", rules)).toMatch(/SNS topic ARN/);
    expect(parseTarget("aws_kinesis", "arn:aws:kinesis:us-east-2:111111111111:stream/s ", rules)).toMatch(/must be/);
  });

  it("refuses the platform's own account and regions outside the allow-list", () => {
    expect(parseTarget("aws_sns", "arn:aws:sns:us-east-1:123456789012:ours", rules)).toMatch(/platform's own/);
    expect(roleArnProblem("arn:aws:iam::123456789012:role/x", rules)).toMatch(/platform's own/);
    expect(roleArnProblem("arn:aws:iam::111111111111:role/path/x", rules)).toBeUndefined();
    expect(roleArnProblem("arn:aws:iam::111111111111:user/x", rules)).toMatch(/IAM role ARN/);
    const eu = { regions: ["eu-west-1"] };
    expect(parseTarget("aws_sns", "arn:aws:sns:us-east-1:111111111111:t", eu)).toMatch(/region us-east-1 is not/);
    expect(typeof parseTarget("aws_sns", "arn:aws:sns:eu-west-1:111111111111:t", eu)).toBe("object");
  });
});

describe("AWS destination policies and sizes", () => {
  it("lets the session do the one action on the one target, and the trust policy require the external id", () => {
    const t = target(parseTarget("aws_kinesis", "arn:aws:kinesis:us-east-2:111111111111:stream/s", rules));
    expect(JSON.parse(sessionPolicy(t))).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "kinesis:PutRecord", Resource: t.arn }],
    });
    const id = newExternalId();
    expect(id).toMatch(/^whx_[A-Za-z0-9_-]{24}$/);
    expect(newExternalId()).not.toBe(id);
    const { trust_policy } = customerPolicies("arn:aws:iam::123456789012:role/worker", id, t);
    expect(trust_policy.Statement[0]).toMatchObject({
      Principal: { AWS: "arn:aws:iam::123456789012:role/worker" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "sts:ExternalId": id } },
    });
  });

  it("refuses a service whose message cannot hold the largest payload the platform accepts", () => {
    expect(sizeProblem("aws_sqs", 358_400)).toBeUndefined();
    expect(sizeProblem("aws_sns", 262_144)).toMatch(/MAX_PAYLOAD_BYTES to 260096 or less/);
    expect(sizeProblem("aws_eventbridge", 260_096)).toBeUndefined();
  });
});

describe("the roles a destination may name", () => {
  it("match the platform's pattern, `*` matching anything and nothing else special", () => {
    const pattern = { regions: [], rolePattern: "arn:aws:iam::*:role/webhooks-*" };
    expect(roleArnProblem("arn:aws:iam::111111111111:role/webhooks-orders", pattern)).toBeUndefined();
    expect(roleArnProblem("arn:aws:iam::111111111111:role/admin", pattern)).toMatch(/must match/);
    expect(
      roleArnProblem("arn:aws:iam::111111111111:role/webhooksXorders", {
        regions: [],
        rolePattern: "arn:aws:iam::*:role/webhooks.*",
      }),
    ).toMatch(/must match/);
  });
});
