/**
 * The demo receiver: verifies both signature formats of every webhook, dedupes on webhook-id, logs
 * what it got, and answers 204 (401 when no signature verifies). What a tenant's endpoint should do.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Logger } from "pino";
import { verifyWebhook } from "../core/signing.ts";

export interface ReceiverOptions {
  /** The endpoint's live secrets; a function so the local stack can supply them after seeding. */
  readonly secrets: () => readonly string[];
  readonly log: Logger;
  /** @default 300 */
  readonly toleranceS?: number;
}

const maxBody = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBody) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function createReceiver(opts: ReceiverOptions): Server {
  const seen = new Set<string>();
  return createServer((req, res) => {
    void (async () => {
      if (req.method !== "POST") {
        res.writeHead(405).end();
        return;
      }
      const body = await readBody(req);
      if (!body) {
        res.writeHead(413).end();
        return;
      }
      const {
        "webhook-id": id,
        "webhook-timestamp": ts,
        "webhook-signature": sig,
        "stripe-signature": stripe,
      } = req.headers;
      const verify = { now: Math.floor(Date.now() / 1000), toleranceS: opts.toleranceS ?? 300 };
      const standard = verifyWebhook(
        { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig },
        body,
        opts.secrets(),
        verify,
      );
      const stripeStyle = verifyWebhook({ "stripe-signature": stripe }, body, opts.secrets(), verify);
      const webhookId = typeof id === "string" ? id : undefined;
      const duplicate = webhookId !== undefined && seen.has(webhookId);
      if (webhookId) seen.add(webhookId);
      const fields = {
        webhook_id: webhookId,
        standard_webhooks: standard.ok ? "verified" : standard.reason,
        stripe_signature: stripeStyle.ok ? "verified" : stripeStyle.reason,
        duplicate,
        bytes: body.length,
      };
      if (!standard.ok && !stripeStyle.ok) {
        opts.log.warn(fields, "webhook rejected: no signature verified");
        res.writeHead(401).end();
        return;
      }
      opts.log.info(fields, duplicate ? "webhook received again (deduped on webhook-id)" : "webhook verified");
      res.writeHead(204).end();
    })().catch((err: unknown) => {
      opts.log.error({ err }, "receiver failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
}
