/**
 * Ceiling (b): the naive storage path: one PutItem and one SendMessage per request, as a client would do
 * itself. With `shaped`, the PutItem writes an item of our event's shape (its index attributes, so both GSIs
 * get an entry, and the conditional create): what the data model costs the backend, apart from the API's code.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { createAwsClients } from "../../services/aws/clients.ts";
import { dueShardOf } from "../../services/aws/events/store.ts";
import { localCredentials } from "../../services/local/local-stack.ts";

const [dynamodb, sqs, table, queueUrl, mode] = process.argv.slice(2);
const clients = createAwsClients({ region: "us-east-1", endpoints: { dynamodb, sqs }, credentials: localCredentials });

function put(id: string, body: Buffer): PutCommand {
  if (mode !== "shaped") return new PutCommand({ TableName: table, Item: { tenantId: "naive", sk: id, body } });
  const now = Date.now();
  const item = {
    tenantId: "naive",
    sk: id,
    eventId: id,
    type: "bench.event",
    body,
    bodyHash: id,
    createdAt: new Date(now).toISOString(),
    status: "PENDING",
    tenantStatus: "naive#PENDING",
    dueAt: now,
    dueShard: dueShardOf(id),
    deliveries: { ep_naive: { status: "PENDING", webhookId: id, attempts: 0, nextAttemptAt: now } },
    version: 0,
  };
  return new PutCommand({ TableName: table, Item: item, ConditionExpression: "attribute_not_exists(sk)" });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    JSON.parse(body.toString("utf8"));
    const id = randomUUID();
    clients.ddb
      .send(put(id, body))
      .then(() => clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ id }) })))
      .then(
        () => res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ event_id: id })),
        () => res.writeHead(500).end(),
      );
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});
