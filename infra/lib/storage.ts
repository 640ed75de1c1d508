/** The DynamoDB tables, built from the same definitions the local stack and tests create. */
import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { tableDefinitions, tableNames, type TableNames } from "../../services/aws/tables.ts";

/** Provisioned capacity of the events table, scaled between these bounds (units per second). */
export interface EventsTableCapacity {
  /** Write units, for the table and each of its indexes (a 1 KiB event delivered at once writes about 10 units). */
  readonly minWriteUnits: number;
  readonly maxWriteUnits: number;
  readonly minReadUnits: number;
  readonly maxReadUnits: number;
}

export interface StorageProps {
  /** Tables are named `<prefix>-tenants`, `<prefix>-api-keys`, `<prefix>-events` (the services' TABLE_PREFIX). */
  readonly tablePrefix: string;
  /**
   * Provisioned capacity for the events table (two-thirds of the cost under load), auto-scaled to keep 70% in use:
   * about 60% cheaper than on demand for steady traffic, but a burst above what is provisioned is throttled until it
   * scales (the services retry). The other two tables see little traffic and stay on demand.
   * @default on demand
   */
  readonly eventsTableCapacity?: EventsTableCapacity;
}

const keyType = (t: string | undefined) => (t === "N" ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING);

export class Storage extends Construct {
  readonly names: TableNames;
  readonly tenants: dynamodb.Table;
  readonly apiKeys: dynamodb.Table;
  readonly events: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const c = props.eventsTableCapacity;
    if (
      c &&
      !(
        1 <= c.minWriteUnits &&
        c.minWriteUnits <= c.maxWriteUnits &&
        1 <= c.minReadUnits &&
        c.minReadUnits <= c.maxReadUnits
      )
    )
      throw new Error("eventsTableCapacity: need 1 <= min <= max for reads and writes");
    this.names = tableNames(props.tablePrefix);
    const tables = tableDefinitions(this.names).map((def) => {
      const attr = (name: string | undefined) => ({
        name: name ?? "",
        type: keyType(def.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType),
      });
      const hash = def.KeySchema?.find((k) => k.KeyType === "HASH")?.AttributeName;
      const range = def.KeySchema?.find((k) => k.KeyType === "RANGE")?.AttributeName;
      const capacity = def.TableName === this.names.events ? props.eventsTableCapacity : undefined;
      const units = capacity && { readCapacity: capacity.minReadUnits, writeCapacity: capacity.minWriteUnits };
      const table = new dynamodb.Table(this, def.TableName ?? "", {
        tableName: def.TableName,
        partitionKey: attr(hash),
        ...(range ? { sortKey: attr(range) } : {}),
        ...(units
          ? { billingMode: dynamodb.BillingMode.PROVISIONED, ...units }
          : { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST }),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: "ttl",
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        // Kept when the stack is deleted or a deploy rolls back, and refused to anyone's DeleteTable: data outlives the
        // stack. The names are fixed, so a stack created again (or a retried first deploy) takes them back with
        // `--import-existing-resources`, which `npm run deploy` passes. Not RetainExceptOnCreate: a rollback would
        // then try to delete a protected table and fail.
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const gsi of def.GlobalSecondaryIndexes ?? []) {
        const gsiRange = gsi.KeySchema?.find((k) => k.KeyType === "RANGE")?.AttributeName;
        const projection = gsi.Projection?.ProjectionType;
        table.addGlobalSecondaryIndex({
          indexName: gsi.IndexName ?? "",
          partitionKey: attr(gsi.KeySchema?.find((k) => k.KeyType === "HASH")?.AttributeName),
          ...(gsiRange ? { sortKey: attr(gsiRange) } : {}),
          projectionType:
            projection === "INCLUDE"
              ? dynamodb.ProjectionType.INCLUDE
              : projection === "KEYS_ONLY"
                ? dynamodb.ProjectionType.KEYS_ONLY
                : dynamodb.ProjectionType.ALL,
          ...(gsi.Projection?.NonKeyAttributes ? { nonKeyAttributes: gsi.Projection.NonKeyAttributes } : {}),
          ...units,
        });
      }
      if (capacity) {
        const scale = (attribute: dynamodb.IScalableTableAttribute) =>
          attribute.scaleOnUtilization({ targetUtilizationPercent: 70 });
        const reads = { minCapacity: capacity.minReadUnits, maxCapacity: capacity.maxReadUnits };
        const writes = { minCapacity: capacity.minWriteUnits, maxCapacity: capacity.maxWriteUnits };
        scale(table.autoScaleReadCapacity(reads));
        scale(table.autoScaleWriteCapacity(writes));
        for (const gsi of def.GlobalSecondaryIndexes ?? []) {
          scale(table.autoScaleGlobalSecondaryIndexReadCapacity(gsi.IndexName ?? "", reads));
          scale(table.autoScaleGlobalSecondaryIndexWriteCapacity(gsi.IndexName ?? "", writes));
        }
      }
      return table;
    });
    [this.tenants, this.apiKeys, this.events] = tables as [dynamodb.Table, dynamodb.Table, dynamodb.Table];
  }
}
