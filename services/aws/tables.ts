/** DynamoDB table and index definitions: the single source for bootstrap, tests and (by reading) infra. */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

export interface TableNames {
  readonly tenants: string;
  readonly apiKeys: string;
  readonly events: string;
}

export function tableNames(prefix: string): TableNames {
  return { tenants: `${prefix}-tenants`, apiKeys: `${prefix}-api-keys`, events: `${prefix}-events` };
}

export const eventIndexes = {
  /** The tenant's events, newest first. Only event items carry `createdAt`, so attempts stay out. */
  byCreated: "by-created",
  /** The tenant's events in one status: `tenantStatus` = `<tenantId>#<status>`, never a bare status. */
  byStatus: "by-status",
  /** Sparse: only events with an unsettled delivery, sharded so no partition is hot. */
  byDue: "by-due",
} as const;

export const apiKeyIndexes = {
  /** A tenant's keys, for listing and revoking by key id. */
  byTenant: "by-tenant",
} as const;

/** Shards of the by-due index; the sweeper queries each. */
export const dueShards = 16;

export function tableDefinitions(names: TableNames): CreateTableCommandInput[] {
  const summary = { ProjectionType: "INCLUDE" as const, NonKeyAttributes: ["eventId", "type", "status"] };
  return [
    {
      TableName: names.tenants,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "tenantId", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "tenantId", KeyType: "HASH" }],
    },
    {
      TableName: names.apiKeys,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "keyHash", AttributeType: "S" },
        { AttributeName: "tenantId", AttributeType: "S" },
        { AttributeName: "keyId", AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: "keyHash", KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: apiKeyIndexes.byTenant,
          KeySchema: [
            { AttributeName: "tenantId", KeyType: "HASH" },
            { AttributeName: "keyId", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    },
    {
      TableName: names.events,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "tenantId", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
        { AttributeName: "createdAt", AttributeType: "S" },
        { AttributeName: "tenantStatus", AttributeType: "S" },
        { AttributeName: "dueShard", AttributeType: "S" },
        { AttributeName: "dueAt", AttributeType: "N" },
      ],
      KeySchema: [
        { AttributeName: "tenantId", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: eventIndexes.byCreated,
          KeySchema: [
            { AttributeName: "tenantId", KeyType: "HASH" },
            { AttributeName: "createdAt", KeyType: "RANGE" },
          ],
          Projection: summary,
        },
        {
          IndexName: eventIndexes.byStatus,
          KeySchema: [
            { AttributeName: "tenantStatus", KeyType: "HASH" },
            { AttributeName: "createdAt", KeyType: "RANGE" },
          ],
          Projection: summary,
        },
        {
          IndexName: eventIndexes.byDue,
          KeySchema: [
            { AttributeName: "dueShard", KeyType: "HASH" },
            { AttributeName: "dueAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
    },
  ];
}
