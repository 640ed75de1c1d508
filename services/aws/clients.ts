/** AWS SDK clients, pointed at AWS, LocalStack or the local emulators by endpoint. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";

export interface AwsClientOptions {
  readonly region: string;
  readonly endpoints: {
    readonly dynamodb?: string | undefined;
    readonly sqs?: string | undefined;
    readonly kms?: string | undefined;
  };
  /** Static credentials (tests, emulators); the SDK's default chain when absent. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
}

export interface AwsClients {
  readonly dynamo: DynamoDBClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** Only for sealing signing secrets where SECRETS_KMS_KEY_ID is set; creating it opens nothing. */
  readonly kms: KMSClient;
  destroy(): void;
}

// Bounded timeouts turn an unreachable backend into a quick error (503) instead of a hung request.
// SQS's bound sits above the 20 s long poll.
const handler = (requestTimeout: number) => ({ connectionTimeout: 2000, requestTimeout, throwOnRequestTimeout: true });

export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const common = {
    region: opts.region,
    maxAttempts: 3,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  };
  const dynamo = new DynamoDBClient({
    ...common,
    requestHandler: handler(5000),
    ...(opts.endpoints.dynamodb ? { endpoint: opts.endpoints.dynamodb } : {}),
  });
  const ddb = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  // Emulator queue URLs carry hostnames that do not resolve: always talk to the configured endpoint.
  const sqs = new SQSClient({
    ...common,
    requestHandler: handler(30_000),
    ...(opts.endpoints.sqs ? { endpoint: opts.endpoints.sqs, useQueueUrlAsEndpoint: false } : {}),
  });
  const kms = new KMSClient({
    ...common,
    requestHandler: handler(5000),
    ...(opts.endpoints.kms ? { endpoint: opts.endpoints.kms } : {}),
  });
  return {
    dynamo,
    ddb,
    sqs,
    kms,
    destroy() {
      ddb.destroy();
      dynamo.destroy();
      sqs.destroy();
      kms.destroy();
    },
  };
}

export type { DynamoDBDocumentClient as DocumentClient } from "@aws-sdk/lib-dynamodb";
export type { Message as QueueMessage, SQSClient } from "@aws-sdk/client-sqs";
