// docs/samples/verify-standard-webhooks.ts
import { Webhook } from "standardwebhooks";

/** The parsed event, or a thrown error if the signature or the timestamp (±5 min) does not verify. */
export function verifyStandard(rawBody: Buffer, headers: Record<string, string>, secret: string): unknown {
  return new Webhook(secret).verify(rawBody, {
    "webhook-id": headers["webhook-id"] ?? "",
    "webhook-timestamp": headers["webhook-timestamp"] ?? "",
    "webhook-signature": headers["webhook-signature"] ?? "",
  });
}
