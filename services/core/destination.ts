/**
 * AWS destinations: an endpoint that delivers into the customer's own SQS queue, SNS topic, EventBridge bus or
 * Kinesis stream, through a role the customer grants (assumed with an external id the platform makes per endpoint).
 * Pure: what a target and a role ARN must look like, the policies, and the size each service takes.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";

export const destinationTypes = ["aws_sqs", "aws_sns", "aws_eventbridge", "aws_kinesis"] as const;
export type DestinationType = (typeof destinationTypes)[number];
export const endpointTypes = ["http", ...destinationTypes] as const;
export type EndpointType = (typeof endpointTypes)[number];

/** An AWS destination as stored on its endpoint (absent: the endpoint is an HTTP one). */
export const destinationSchema = z.object({
  type: z.enum(destinationTypes),
  target: z.string(),
  roleArn: z.string(),
  externalId: z.string(),
});
export type Destination = z.infer<typeof destinationSchema>;

/** The target as the worker uses it: its service's region, account and the ARN a session policy names. */
export interface Target {
  readonly type: DestinationType;
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The resource's ARN (for SQS, built from the queue URL). */
  readonly arn: string;
  /** For SQS: the queue URL messages are sent to. */
  readonly queueUrl?: string;
  /** A FIFO queue or topic (its name ends in `.fifo`): messages carry a group and a deduplication id. */
  readonly fifo: boolean;
}

const partitions: Record<string, string> = {
  aws: "amazonaws.com",
  "aws-cn": "amazonaws.com.cn",
  "aws-us-gov": "amazonaws.com",
};
const region = "([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d{1,2})";
const account = "(\\d{12})";
const arnRe: Record<Exclude<DestinationType, "aws_sqs">, RegExp> = {
  aws_sns: new RegExp(`^arn:(aws|aws-cn|aws-us-gov):sns:${region}:${account}:([A-Za-z0-9_-]{1,256}(?:\\.fifo)?)$`),
  aws_eventbridge: new RegExp(
    `^arn:(aws|aws-cn|aws-us-gov):events:${region}:${account}:event-bus/([A-Za-z0-9._/-]{1,256})$`,
  ),
  aws_kinesis: new RegExp(`^arn:(aws|aws-cn|aws-us-gov):kinesis:${region}:${account}:stream/([A-Za-z0-9._-]{1,128})$`),
};
const roleArnRe = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const queueNameRe = /^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$/;

const whatTarget: Record<DestinationType, string> = {
  aws_sqs: "an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)",
  aws_sns: "an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)",
  aws_eventbridge: "an EventBridge event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)",
  aws_kinesis: "a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)",
};

/**
 * The queue URL's parts. An emulator's URL (http on loopback, `http://127.0.0.1:4566/<account>/<queue>`) is taken
 * only when `localRegion` is given, as on the local stack, and is then in that region.
 */
/** Loopback names: an emulator's queue URL (fauxqs answers sqs.<region>.localhost, which RFC 6761 keeps on loopback). */
const isLoopback = (host: string) => ["127.0.0.1", "localhost", "[::1]"].includes(host) || host.endsWith(".localhost");

function sqsTarget(target: string, localRegion: string | undefined): Target | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  const path = /^\/(\d{12})\/([^/]+)$/.exec(url.pathname);
  if (!path || !queueNameRe.test(path[2]!) || url.search || url.hash || url.username || url.password) return undefined;
  const [, accountId, name] = path as unknown as [string, string, string];
  const host = new RegExp(`^sqs\\.${region}\\.(amazonaws\\.com(?:\\.cn)?)$`).exec(url.hostname);
  let where: { partition: string; region: string } | undefined;
  if (host && url.protocol === "https:" && !url.port) {
    const partition = host[2] === "amazonaws.com.cn" ? "aws-cn" : host[1]!.startsWith("us-gov-") ? "aws-us-gov" : "aws";
    where = { partition, region: host[1]! };
  } else if (localRegion && url.protocol === "http:" && isLoopback(url.hostname))
    where = { partition: "aws", region: localRegion };
  if (!where) return undefined;
  const arn = `arn:${where.partition}:sqs:${where.region}:${accountId}:${name}`;
  return { type: "aws_sqs", ...where, accountId, arn, queueUrl: url.href, fifo: name.endsWith(".fifo") };
}

export interface DestinationRules {
  /** Regions a target may be in (empty: any well-formed region). */
  readonly regions: readonly string[];
  /** The platform's own AWS account: never a target or a role's account, so no tenant writes into our resources. */
  readonly platformAccountId?: string | undefined;
  /** Role ARNs the worker may assume, `*` matching any run of characters (the CDK stack's IAM policy says the same). */
  readonly rolePattern?: string | undefined;
  /** Set on the local stack: SQS queue URLs of the loopback emulator are taken, in this region. */
  readonly localRegion?: string | undefined;
}

/** The target's parts, or why it is not one. */
export function parseTarget(type: DestinationType, target: string, rules: DestinationRules): Target | string {
  let parsed: Target | undefined;
  if (type === "aws_sqs") parsed = sqsTarget(target, rules.localRegion);
  else {
    const m = arnRe[type].exec(target);
    if (m) {
      const [, partition, region, accountId, name] = m as unknown as [string, string, string, string, string];
      if (partitions[partition] !== undefined)
        parsed = { type, partition, region, accountId, arn: target, fifo: name.endsWith(".fifo") };
    }
  }
  if (!parsed) return `must be ${whatTarget[type]}`;
  if (rules.regions.length > 0 && !rules.regions.includes(parsed.region))
    return `region ${parsed.region} is not one this platform delivers to (${rules.regions.join(", ")})`;
  if (parsed.accountId === rules.platformAccountId) return "must not be in the platform's own AWS account";
  return parsed;
}

/** Why a role ARN is not one a destination may use, or undefined. */
export function roleArnProblem(roleArn: string, rules: DestinationRules): string | undefined {
  const m = roleArnRe.exec(roleArn);
  if (!m) return "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)";
  if (m[2] === rules.platformAccountId) return "must not be a role of the platform's own AWS account";
  if (rules.rolePattern && !globMatches(rules.rolePattern, roleArn))
    return `must match ${rules.rolePattern}: the only roles this platform may assume`;
  return undefined;
}

function globMatches(pattern: string, s: string): boolean {
  const re = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"));
  return new RegExp(`^${re.join(".*")}$`).test(s);
}

/** A new external id: what the customer's trust policy requires, so no other tenant of ours can use their role. */
export function newExternalId(): string {
  return `whx_${randomBytes(18).toString("base64url")}`;
}

/** The one action a destination needs on its target. */
export const actionOf: Record<DestinationType, string> = {
  aws_sqs: "sqs:SendMessage",
  aws_sns: "sns:Publish",
  aws_eventbridge: "events:PutEvents",
  aws_kinesis: "kinesis:PutRecord",
};

/** The session policy the worker passes to AssumeRole: the assumed session may do the one action on the one target. */
export function sessionPolicy(t: Target): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: actionOf[t.type], Resource: t.arn }],
  });
}

/**
 * The policies a customer pastes: the role's trust policy (our worker's role may assume it, with this endpoint's
 * external id only) and the permission it needs (the one action on the target).
 */
export function customerPolicies(principalArn: string, externalId: string, t: Target | undefined) {
  return {
    trust_policy: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: principalArn },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "sts:ExternalId": externalId } },
        },
      ],
    },
    permissions_policy: t && {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: actionOf[t.type], Resource: t.arn }],
    },
  };
}

/**
 * Bytes each service takes per message, its attributes included (SQS raised its limit to 1 MiB in 2025), and what
 * our attributes take at most (ids, timestamp, type, three secrets' signatures in both styles).
 */
export const messageLimits: Record<DestinationType, number> = {
  aws_sqs: 1_048_576,
  aws_sns: 262_144,
  aws_eventbridge: 262_144,
  aws_kinesis: 1_048_576,
};
export const attributeReserve = 2048;

/** Why a destination cannot take every payload the platform accepts (`maxPayloadBytes`), or undefined. */
export function sizeProblem(type: DestinationType, maxPayloadBytes: number): string | undefined {
  const room = messageLimits[type] - attributeReserve;
  if (maxPayloadBytes <= room) return undefined;
  return (
    `${type} takes ${messageLimits[type]} bytes per message with its attributes, and this platform accepts payloads ` +
    `of up to ${maxPayloadBytes} bytes: an operator can set MAX_PAYLOAD_BYTES to ${room} or less to allow it`
  );
}
