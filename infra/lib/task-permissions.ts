/** What each service's task role may do: exactly the calls it makes, granted through the resources' grant methods. */
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type { DeliveryQueues } from "./queues.ts";
import type { Storage } from "./storage.ts";

export interface TaskRoles {
  readonly api: iam.IRole;
  readonly worker: iam.IRole;
}

export function grantTaskPermissions(
  roles: TaskRoles,
  on: { storage: Storage; queues: DeliveryQueues; signingKey: kms.IKey },
): void {
  const { storage, queues, signingKey } = on;
  // The API: tables, send (never receive) on the queue, and the DLQ for peek/requeue.
  for (const table of [storage.tenants, storage.apiKeys, storage.events]) table.grantReadWriteData(roles.api);
  queues.queue.grantSendMessages(roles.api);
  queues.queue.grant(roles.api, "sqs:GetQueueAttributes");
  queues.deadLetterQueue.grantConsumeMessages(roles.api);
  // The API seals the secrets it creates and rotates, and never opens one: it needs data keys, not Decrypt.
  signingKey.grant(roles.api, "kms:GenerateDataKey");
  // The worker: consume the queue (and re-send delayed copies), send to the DLQ, events and tenants only, and of
  // those only the actions it calls: events: lease, outcome and rate slots (GetItem, UpdateItem), the attempt log
  // (BatchWriteItem), the sweeper's by-due index (Query), an operational event it emits (PutItem, conditional on
  // the event being new), an ordering lane left empty (DeleteItem: IAM cannot narrow it to lane items, whose keys
  // share the tenant's partition; the write is conditional on the lane being empty); tenants: read, and the
  // guarded write of a changed endpoint (GetItem, PutItem). No Scan or anything else to read or write wholesale.
  storage.events.grant(
    roles.worker,
    "dynamodb:GetItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
  );
  storage.tenants.grant(roles.worker, "dynamodb:GetItem", "dynamodb:PutItem");
  queues.queue.grantConsumeMessages(roles.worker);
  queues.queue.grantSendMessages(roles.worker);
  queues.deadLetterQueue.grantSendMessages(roles.worker);
  // The worker opens secrets to sign with, and seals any still in clear when it writes a tenant (circuit, health).
  signingKey.grant(roles.worker, "kms:Decrypt", "kms:GenerateDataKey");
  queues.deadLetterQueue.grant(roles.worker, "sqs:GetQueueUrl");
  roles.worker.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ["sqs:GetQueueUrl"],
      resources: [queues.queue.queueArn, queues.deadLetterQueue.queueArn],
    }),
  );
}

/**
 * AWS destinations: the worker may assume customers' roles matching `pattern`, only with an external id (every
 * endpoint has one: the customer's trust policy requires it), and never a role of this account, so no tenant can
 * have the platform act on its own resources.
 */
export function grantDestinationRoles(worker: iam.IRole, pattern: string, account: string, partition: string): void {
  worker.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ["sts:AssumeRole"],
      resources: [pattern],
      conditions: { StringLike: { "sts:ExternalId": "whx_*" } },
    }),
  );
  worker.addToPrincipalPolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ["sts:AssumeRole"],
      resources: [`arn:${partition}:iam::${account}:role/*`],
    }),
  );
}
