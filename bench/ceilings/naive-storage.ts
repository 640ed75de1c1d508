/** Ceiling (b): the naive storage path: one PutItem and one SendMessage per request, as a client would do itself. */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { createAwsClients } from "../../services/aws/clients.ts";
import { localCredentials } from "../../services/local/local-stack.ts";

const [dynamodb, sqs, table, queueUrl] = process.argv.slice(2);
const clients = createAwsClients({ region: "us-east-1", endpoints: { dynamodb, sqs }, credentials: localCredentials });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    JSON.parse(body.toString("utf8"));
    const id = randomUUID();
    clients.ddb
      .send(new PutCommand({ TableName: table, Item: { tenantId: "naive", sk: id, body } }))
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
