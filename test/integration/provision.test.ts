/**
 * Provisioning brings existing queues in line with changed settings (a restart with another retry schedule
 * or visibility timeout), on every backend, whatever it calls the "queue exists" error.
 */
import { randomBytes } from "node:crypto";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, expect, it } from "vitest";
import { inject } from "vitest";
import { createAwsClients } from "../../services/aws/clients.ts";
import { provisionAll, type ProvisionOptions } from "../../services/aws/provision.ts";
import { redriveMaxReceiveCount } from "../../services/core/timing.ts";
import { localCredentials } from "../../services/local/local-stack.ts";

const clients = createAwsClients({
  region: "us-east-1",
  endpoints: { dynamodb: inject("dynamoEndpoint"), sqs: inject("sqsEndpoint") },
  credentials: localCredentials,
});
afterAll(() => clients.destroy());

it("updates the visibility timeout and redrive limit of queues that exist, and is idempotent", async () => {
  const id = randomBytes(4).toString("hex");
  const options: ProvisionOptions = {
    tablePrefix: `p${id}`,
    queueName: `p${id}`,
    dlqName: `p${id}-dlq`,
    visibilityTimeoutS: 60,
    maxAttempts: 6,
  };
  const first = await provisionAll(clients.dynamo, clients.sqs, options);
  const again = await provisionAll(clients.dynamo, clients.sqs, options);
  expect(again).toEqual(first);
  const changed = await provisionAll(clients.dynamo, clients.sqs, {
    ...options,
    visibilityTimeoutS: 90,
    maxAttempts: 2,
  });
  expect(changed).toEqual(first);
  const { Attributes: a = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: first.queueUrl, AttributeNames: ["VisibilityTimeout", "RedrivePolicy"] }),
  );
  expect(a.VisibilityTimeout).toBe("90");
  expect(Number((JSON.parse(a.RedrivePolicy ?? "{}") as { maxReceiveCount?: unknown }).maxReceiveCount)).toBe(
    redriveMaxReceiveCount(2),
  );
});
