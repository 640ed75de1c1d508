/** Idempotent creation of the tables and queues (local stack, LocalStack, tests; CDK owns them on AWS). */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { redriveMaxReceiveCount } from "../core/timing.ts";
import { isQueueMissing, isTableExists } from "./errors.ts";
import { tableDefinitions, tableNames, type TableNames } from "./tables.ts";

export async function ensureTables(dynamo: DynamoDBClient, names: TableNames): Promise<void> {
  for (const def of tableDefinitions(names)) {
    try {
      await dynamo.send(new CreateTableCommand(def));
    } catch (err) {
      if (!isTableExists(err)) throw err;
    }
    for (let i = 0; ; i++) {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: def.TableName }));
      if (Table?.TableStatus === "ACTIVE") break;
      if (i > 200) throw new Error(`table ${def.TableName} did not become active`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface QueueSettings {
  readonly queueName: string;
  readonly dlqName: string;
  readonly visibilityTimeoutS: number;
  /** Above the attempt count: redrive is only the safety net for messages that crash workers. */
  readonly maxReceiveCount: number;
}

export interface QueueUrls {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

const fourDaysS = 4 * 86_400;
const fourteenDaysS = 14 * 86_400;

async function queueUrlOf(sqs: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (err) {
    if (isQueueMissing(err)) return undefined;
    throw err;
  }
}

/** Attribute values as SQS may echo them: numbers as strings, the redrive policy as JSON in any key order. */
function normalised(name: string, value: string | undefined): string | undefined {
  if (name !== "RedrivePolicy" || value === undefined) return value;
  const { deadLetterTargetArn, maxReceiveCount } = JSON.parse(value) as {
    deadLetterTargetArn?: unknown;
    maxReceiveCount?: unknown;
  };
  return `${String(deadLetterTargetArn)} after ${String(maxReceiveCount)} receives`;
}

/**
 * Creates the queue, or brings an existing one in line with `attributes` (a restart with another retry
 * schedule or visibility timeout), then reads them back: provisioning never depends on how a service spells
 * "already exists", and a queue it cannot change stops start-up with the attribute named.
 */
async function createOrUpdate(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  let url = await queueUrlOf(sqs, name);
  if (url) await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  else url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
  if (!url) throw new Error(`queue ${name} has no URL`);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }));
  const actual: Record<string, string | undefined> = Attributes ?? {};
  for (const [key, want] of Object.entries(attributes)) {
    const have = normalised(key, actual[key]);
    if (have !== normalised(key, want))
      throw new Error(`queue ${name}: ${key} is ${have ?? "unset"} and could not be set to ${normalised(key, want)}`);
  }
  return url;
}

export async function ensureQueues(sqs: SQSClient, s: QueueSettings): Promise<QueueUrls> {
  // The DLQ keeps messages longer than the source queue, so nothing expires on its way to an operator.
  const dlqUrl = await createOrUpdate(sqs, s.dlqName, { MessageRetentionPeriod: String(fourteenDaysS) });
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
  );
  const queueUrl = await createOrUpdate(sqs, s.queueName, {
    MessageRetentionPeriod: String(fourDaysS),
    VisibilityTimeout: String(s.visibilityTimeoutS),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: s.maxReceiveCount }),
  });
  return { queueUrl, dlqUrl };
}

/** A queue URL as given, or the URL of a queue name. */
export async function resolveQueueUrl(sqs: SQSClient, nameOrUrl: string): Promise<string> {
  if (/^https?:\/\//.test(nameOrUrl)) return nameOrUrl;
  const url = await queueUrlOf(sqs, nameOrUrl);
  if (!url) throw new Error(`queue ${nameOrUrl} does not exist`);
  return url;
}

export interface ProvisionOptions {
  readonly tablePrefix: string;
  readonly queueName: string;
  readonly dlqName: string;
  readonly visibilityTimeoutS: number;
  /** Attempts a delivery gets; redrive allows a margin above it for parked and early messages. */
  readonly maxAttempts: number;
}

/** Tables and queues for one deployment, created or brought in line; safe to run on every start. */
export async function provisionAll(dynamo: DynamoDBClient, sqs: SQSClient, o: ProvisionOptions): Promise<QueueUrls> {
  await ensureTables(dynamo, tableNames(o.tablePrefix));
  return ensureQueues(sqs, {
    queueName: o.queueName,
    dlqName: o.dlqName,
    visibilityTimeoutS: o.visibilityTimeoutS,
    maxReceiveCount: redriveMaxReceiveCount(o.maxAttempts),
  });
}
