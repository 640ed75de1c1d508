import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { newSigningSecret } from "../../../services/core/ids.ts";
import { signatureHeaders, verifyWebhook } from "../../../services/core/signing.ts";

const body = Buffer.from('{"type":"order.paid","amount":4200,"note":"caf\u00e9 \u2603"}');
const timestamp = Math.floor(Date.now() / 1000);

describe("signatureHeaders", () => {
  it("verifies with the standardwebhooks package", () => {
    const secret = newSigningSecret();
    const h = signatureHeaders({ webhookId: "msg_1", timestamp, body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, h)).toEqual(JSON.parse(body.toString()));
  });

  it("verifies with Stripe's own library (the key is the whole whsec_ string)", () => {
    const secret = newSigningSecret();
    const h = signatureHeaders({ webhookId: "msg_1", timestamp, body, secrets: [secret] });
    expect(h["stripe-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(Stripe.webhooks.constructEvent(body, h["stripe-signature"]!, secret, 300)).toEqual(
      JSON.parse(body.toString()),
    );
  });

  it("signs once per live secret, so a receiver knowing either secret verifies", () => {
    const [oldSecret, newSecret] = [newSigningSecret(), newSigningSecret()];
    const h = signatureHeaders({ webhookId: "msg_2", timestamp, body, secrets: [newSecret, oldSecret] });
    expect(h["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(h["stripe-signature"]!.split(",").filter((p) => p.startsWith("v1="))).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(() => new Webhook(secret).verify(body, h)).not.toThrow();
      expect(() => Stripe.webhooks.constructEvent(body, h["stripe-signature"]!, secret, 300)).not.toThrow();
    }
  });

  it("fails both verifiers when a byte of the body changes", () => {
    const secret = newSigningSecret();
    const h = signatureHeaders({ webhookId: "msg_3", timestamp, body, secrets: [secret] });
    const tampered = Buffer.from(body);
    tampered[5] = tampered[5]! ^ 1;
    expect(() => new Webhook(secret).verify(tampered, h)).toThrow();
    expect(() => Stripe.webhooks.constructEvent(tampered, h["stripe-signature"]!, secret, 300)).toThrow();
  });
});

describe("verifyWebhook", () => {
  const secret = newSigningSecret();
  const h = signatureHeaders({ webhookId: "msg_4", timestamp, body, secrets: [secret] });
  const std = {
    "webhook-id": h["webhook-id"],
    "webhook-timestamp": h["webhook-timestamp"],
    "webhook-signature": h["webhook-signature"],
  };
  const stripe = { "stripe-signature": h["stripe-signature"] };

  it("accepts either format with any of several secrets", () => {
    expect(verifyWebhook(std, body, [newSigningSecret(), secret], { now: timestamp })).toEqual({
      ok: true,
      format: "standard",
    });
    expect(verifyWebhook(stripe, body, [secret], { now: timestamp })).toEqual({ ok: true, format: "stripe" });
  });

  it("rejects a wrong secret, a stale timestamp and missing headers", () => {
    expect(verifyWebhook(std, body, [newSigningSecret()], { now: timestamp }).ok).toBe(false);
    expect(verifyWebhook(stripe, body, [secret], { now: timestamp + 301 }).ok).toBe(false);
    expect(verifyWebhook(std, body, [secret], { now: timestamp - 301 }).ok).toBe(false);
    expect(verifyWebhook({}, body, [secret], { now: timestamp })).toEqual({
      ok: false,
      reason: "no signature headers",
    });
  });

  it("accepts signatures from the independent implementation", () => {
    const theirs = new Webhook(secret).sign("msg_5", new Date(timestamp * 1000), body.toString());
    const headers = { "webhook-id": "msg_5", "webhook-timestamp": String(timestamp), "webhook-signature": theirs };
    expect(verifyWebhook(headers, body, [secret], { now: timestamp }).ok).toBe(true);
  });
});
