// docs/samples/verify-stripe-by-hand.ts
import { createHmac, timingSafeEqual } from "node:crypto";

/** Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 keyed with the whole whsec_ secret over "t.body">. */
export function verifyStripeStyle(rawBody: Buffer, header: string, secret: string, toleranceS = 300): boolean {
  const parts = header.split(",").map((p) => p.split("="));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceS) return false;
  const expected = createHmac("sha256", secret).update(`${t}.`).update(rawBody).digest();
  return parts.some(([k, v]) => {
    const offered = Buffer.from(k === "v1" ? (v ?? "") : "", "hex");
    return offered.length === expected.length && timingSafeEqual(offered, expected);
  });
}
