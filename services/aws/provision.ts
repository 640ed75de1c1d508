/** Idempotent creation of the tables and queues (local stack, LocalStack, tests; CDK owns them on AWS). */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { tableDefinitions, tableNames, type TableNames } from "./tables.ts";

function isNamed(err: unknown, ...names: string[]): boolean {
  return err instanceof Error && names.includes(err.name);
}

export async function ensureTables(dynamo: DynamoDBClient, names: TableNames): Promise<void> {
  for (const def of tableDefinitions(names)) {
    try {
      await dynamo.send(new CreateTableCommand(def));
    } catch (err) {
      if (!isNamed(err, "ResourceInUseException")) throw err;
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

async function createOrUpdate(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (QueueUrl) return QueueUrl;
  } catch (err) {
    if (!isNamed(err, "QueueAlreadyExists", "QueueNameExists")) throw err;
  }
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`queue ${name} has no URL`);
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  return QueueUrl;
}

export async function ensureQueues(sqs: SQSClient, s: QueueSettings): Promise<QueueUrls> {
  // The DLQ keeps messages longer than the source queue, so nothing expires on its way to an operator.
  const dlqUrl = await createOrUpdate(sqs, s.dlqName, { MessageRetentionPeriod: String(fourteenDaysS) });
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
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
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: nameOrUrl }));
  if (!QueueUrl) throw new Error(`queue ${nameOrUrl} has no URL`);
  return QueueUrl;
}

/**
 * The redrive limit: well above the attempt count, because a message is also received when it arrives
 * early or finds its delivery leased. Redrive only catches messages that crash workers.
 */
export function redriveMaxReceiveCount(maxAttempts: number): number {
  return maxAttempts * 3 + 10;
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
