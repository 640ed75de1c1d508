/** Webhook signatures: Standard Webhooks (`webhook-signature`) and Stripe style (`Stripe-Signature`). */
import { createHmac, timingSafeEqual } from "node:crypto";

const secretPrefix = "whsec_";

/** The HMAC key of a Standard Webhooks secret: the base64-decoded part after `whsec_`. */
function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret, "base64");
}

export function standardSignature(secret: string, webhookId: string, timestamp: number, body: Uint8Array): string {
  return createHmac("sha256", standardKey(secret)).update(`${webhookId}.${timestamp}.`).update(body).digest("base64");
}

/** Stripe keys the HMAC with the whole secret string, `whsec_` included, as its own libraries do. */
export function stripeSignature(secret: string, timestamp: number, body: Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

export interface SignatureInput {
  readonly webhookId: string;
  /** Unix seconds. */
  readonly timestamp: number;
  /** The exact bytes sent. */
  readonly body: Uint8Array;
  /** Every live secret; during rotation both the new and the old one, each giving one signature. */
  readonly secrets: readonly string[];
}

export function signatureHeaders(input: SignatureInput): Record<string, string> {
  const { webhookId, timestamp, body, secrets } = input;
  return {
    "webhook-id": webhookId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((s) => `v1,${standardSignature(s, webhookId, timestamp, body)}`).join(" "),
    "stripe-signature": [`t=${timestamp}`, ...secrets.map((s) => `v1=${stripeSignature(s, timestamp, body)}`)].join(
      ",",
    ),
  };
}

export type VerifyResult = { ok: true; format: "standard" | "stripe" } | { ok: false; reason: string };

export interface VerifyOptions {
  /** Unix seconds. @default the current time */
  readonly now?: number;
  /** Allowed clock skew either way. @default 300 */
  readonly toleranceS?: number;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function fresh(timestamp: number, opts: VerifyOptions): boolean {
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  return Number.isSafeInteger(timestamp) && Math.abs(now - timestamp) <= (opts.toleranceS ?? 300);
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Verifies a delivery by either signature format against the secret, or any of several (during a
 * rotation). Standard Webhooks headers win when both are present, as they bind the webhook-id too.
 * `rawBody` must be the exact bytes received, not re-serialised JSON.
 */
export function verifyWebhook(
  headers: Headers,
  rawBody: Uint8Array,
  secret: string | readonly string[],
  opts: VerifyOptions = {},
): VerifyResult {
  const secrets = typeof secret === "string" ? [secret] : secret;
  const body = rawBody;
  const id = header(headers, "webhook-id");
  const ts = header(headers, "webhook-timestamp");
  const sig = header(headers, "webhook-signature");
  if (id && ts && sig) {
    const timestamp = Number(ts);
    if (!fresh(timestamp, opts)) return { ok: false, reason: "timestamp outside tolerance" };
    const offered = sig
      .split(" ")
      .filter((p) => p.startsWith("v1,"))
      .map((p) => p.slice(3));
    const match = secrets.some((s) => offered.some((o) => sameText(o, standardSignature(s, id, timestamp, body))));
    return match ? { ok: true, format: "standard" } : { ok: false, reason: "no matching signature" };
  }
  const stripe = header(headers, "stripe-signature");
  if (stripe) {
    const parts = stripe.split(",").map((p) => p.split("="));
    const timestamp = Number(parts.find(([k]) => k === "t")?.[1]);
    if (!fresh(timestamp, opts)) return { ok: false, reason: "timestamp outside tolerance" };
    const offered = parts.filter(([k]) => k === "v1").map(([, v]) => v ?? "");
    const match = secrets.some((s) => offered.some((o) => sameText(o, stripeSignature(s, timestamp, body))));
    return match ? { ok: true, format: "stripe" } : { ok: false, reason: "no matching signature" };
  }
  return { ok: false, reason: "no signature headers" };
}
