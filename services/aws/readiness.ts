/** Readiness: the events table and the deliveries queue answer. */
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

export async function checkBackends(
  dynamo: DynamoDBClient,
  sqs: SQSClient,
  table: string,
  queueUrl: string,
): Promise<void> {
  await Promise.all([
    dynamo.send(new DescribeTableCommand({ TableName: table })),
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] })),
  ]);
}
