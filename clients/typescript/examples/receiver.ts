/** A receiver: verify each delivery against the raw body before trusting it, then answer 2xx quickly. */
import { createServer } from "node:http";
import { verifyWebhook } from "@webhook-delivery-platform/client";

// During a rotation, pass both the new and the old secret.
const secrets = (process.env.WEBHOOK_SECRETS ?? "").split(",");

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const verified = verifyWebhook(req.headers, body, secrets);
    if (!verified.ok) {
      res.writeHead(401).end(verified.reason);
      return;
    }
    const event = JSON.parse(body.toString("utf8")) as { type?: string };
    console.log(req.headers["webhook-id"], event.type, verified.format);
    res.writeHead(204).end();
  });
}).listen(8080);
