// docs/samples/express-receiver.ts
import express from "express";
import { verifyWebhook } from "../../services/verify.ts"; // in your project: "webhook-delivery-platform/verify"

/** A receiver that verifies, dedupes on webhook-id, answers at once and processes afterwards. */
export function createReceiverApp(secrets: string[], process: (event: unknown) => Promise<void>) {
  const seen = new Set<string>(); // use your database in production: dedupe must survive restarts
  const app = express();
  // The raw bytes: a signature covers exactly what was sent, never re-serialised JSON.
  app.post("/webhooks", express.raw({ type: "application/json", limit: "1mb" }), (req, res) => {
    const body = req.body as Buffer;
    const result = verifyWebhook(req.headers, body, secrets, { toleranceS: 300 });
    if (!result.ok) {
      res.status(401).end();
      return;
    }
    const id = String(req.headers["webhook-id"]);
    res.status(204).end(); // answer within the timeout (30 s); do the work after
    if (seen.has(id)) return; // a retry or a replay of something already handled
    seen.add(id);
    void process(JSON.parse(body.toString("utf8")));
  });
  return app;
}
