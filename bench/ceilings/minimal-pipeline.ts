/**
 * Ceiling for delivery: only what a delivery cannot avoid. Receive a batch, POST each message to the receiver
 * (keep-alive), one UpdateItem per message, delete the batch; `concurrency / 10` loops of batches of ten.
 * Exits when the queue stays empty for a second, printing how many it delivered and how long it took.
 */
import { Agent, request } from "node:http";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { createAwsClients } from "../../services/aws/clients.ts";
import { localCredentials } from "../../services/local/local-stack.ts";

const [dynamodb, sqs, table, queueUrl, receiverUrl, concurrency = "20"] = process.argv.slice(2);
const clients = createAwsClients({ region: "us-east-1", endpoints: { dynamodb, sqs }, credentials: localCredentials });
const agent = new Agent({ keepAlive: true });
const target = new URL(receiverUrl!);

const post = (body: string) =>
  new Promise<void>((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: { "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve());
      },
    );
    req.on("error", reject);
    req.end(body);
  });

let delivered = 0;
const started = performance.now();
let lastWork = performance.now();
await Promise.all(
  Array.from({ length: Math.max(1, Math.ceil(Number(concurrency) / 10)) }, async () => {
    while (performance.now() - lastWork < 1000) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      await Promise.all(
        Messages.map(async (m) => {
          const { eventId } = JSON.parse(m.Body ?? "{}") as { eventId: string };
          await post(m.Body ?? "{}");
          await clients.ddb.send(
            new UpdateCommand({
              TableName: table,
              Key: { tenantId: "minimal", sk: eventId },
              UpdateExpression: "SET delivered = :t",
              ExpressionAttributeValues: { ":t": Date.now() },
            }),
          );
        }),
      );
      await clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      delivered += Messages.length;
      lastWork = performance.now();
    }
  }),
);
process.stdout.write(`${JSON.stringify({ delivered, seconds: (lastWork - started) / 1000 })}\n`);
process.exit(0);
