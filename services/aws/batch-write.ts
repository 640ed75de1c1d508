/** BatchWriteItem for many items: 25 to a call, sending again what DynamoDB leaves unprocessed. */
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

type WriteRequest =
  { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

/** Writes every request (puts or deletes); unprocessed ones (throttling) go again, five rounds at most, backing off. */
export async function batchWrite(
  ddb: DynamoDBDocumentClient,
  table: string,
  all: readonly WriteRequest[],
): Promise<void> {
  for (let i = 0; i < all.length; i += 25) {
    let requests = all.slice(i, i + 25);
    for (let round = 0; requests.length > 0; round++) {
      if (round === 5) throw new Error(`${requests.length} writes left unprocessed`);
      if (round > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
      const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: [...requests] } }));
      requests = (out.UnprocessedItems?.[table] ?? []) as WriteRequest[];
    }
  }
}
