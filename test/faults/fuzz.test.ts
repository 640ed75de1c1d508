/** Property-based fuzzing of the ingestion route and the signature verifier (fast-check). */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSigningSecret } from "../../services/core/ids.ts";
import { signatureHeaders, verifyWebhook } from "../../services/core/signing.ts";
import { startStack, type CreatedTenant, type Stack } from "../support/stack.ts";

let stack: Stack;
let tenant: CreatedTenant;

beforeAll(async () => {
  stack = await startStack({ MAX_PAYLOAD_BYTES: "2048", INGEST_RATE_PER_S: "10000", INGEST_BURST: "10000" });
  tenant = await stack.createTenant([{ url: "http://127.0.0.1:9/fuzz" }]);
});
afterAll(() => stack.close());

const limit = 2048;
const bodies = fc.oneof(
  fc.json().map((s) => Buffer.from(s)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify({ data: v }))),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => Buffer.from(`{"s":"${s}"}`)),
  fc.integer({ min: 1, max: 200 }).map((d) => Buffer.from(`{"a":${"[".repeat(d)}${"]".repeat(d)}}`)),
  fc
    .constantFrom(
      "1e999",
      '{"n":1e999}',
      '{"n":123456789012345678901234567890}',
      '{"a":1,"a":2}',
      '{"__proto__":{"x":1}}',
      "{}",
      "",
    )
    .map((s) => Buffer.from(s)),
  fc.integer({ min: limit - 20, max: limit + 20 }).map((n) => Buffer.from(`{"p":"${"x".repeat(Math.max(0, n - 8))}"}`)),
  fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])),
);
const contentTypes = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "text/plain",
  "application/x-www-form-urlencoded",
  "",
  "application/jsonx",
);
const idempotencyKeys = fc.option(fc.string({ minLength: 0, maxLength: 300 }), { nil: undefined });

describe("fuzzing POST /v1/events", () => {
  it("answers every input with a 2xx or a problem+json 4xx, and stores exactly the events it accepted", async () => {
    const created = new Map<string, Buffer>();
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, idempotencyKeys, async (body, contentType, key) => {
        const req = stack.http
          .post("/v1/events")
          .set("authorization", `Bearer ${tenant.apiKey}`)
          .serialize((x: unknown) => x as string);
        if (contentType) req.set("content-type", contentType);
        if (key !== undefined && /^[\x20-\x7e]*$/.test(key)) req.set("idempotency-key", key);
        const res = await req.send(body);
        if (res.status === 201) created.set(res.body.event_id, body);
        else if (res.status !== 200) {
          expect([400, 409, 413, 415, 422]).toContain(res.status);
          expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
        }
      }),
      { numRuns: 300 },
    );
    // Nothing half-written: the tenant's events are exactly the ones answered 201, with their exact bytes.
    const stored: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { event_id: string }[]; next_cursor: string | null } } = await stack.http
        .get(`/v1/events?limit=100${cursor ? `&cursor=${cursor}` : ""}`)
        .set("authorization", `Bearer ${tenant.apiKey}`);
      stored.push(...page.body.data.map((e: { event_id: string }) => e.event_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(stored.sort()).toEqual([...created.keys()].sort());
    for (const [id, body] of [...created].slice(0, 20)) {
      const event = await stack.http.get(`/v1/events/${id}`).set("authorization", `Bearer ${tenant.apiKey}`);
      expect(JSON.stringify(event.body.payload)).toBe(JSON.stringify(JSON.parse(body.toString("utf8"))));
    }
  }, 120_000);
});

describe("fuzzing verifyWebhook", () => {
  const now = 1_800_000_000;
  it("never throws, and accepts only what was signed with one of its secrets over these exact bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.dictionary(
          fc.constantFrom("webhook-id", "webhook-timestamp", "webhook-signature", "stripe-signature", "x"),
          fc.string({ maxLength: 120 }),
        ),
        (body, headers) => {
          const result = verifyWebhook(headers, body, [newSigningSecret()], { now });
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.nat({ max: 199 }),
        fc.integer({ min: -300, max: 300 }),
        (body, flip, skew) => {
          const secret = newSigningSecret();
          const h = signatureHeaders({ webhookId: "msg_f", timestamp: now + skew, body, secrets: [secret] });
          expect(verifyWebhook(h, body, [secret], { now }).ok).toBe(true);
          const stripeOnly = { "stripe-signature": h["stripe-signature"] };
          expect(verifyWebhook(stripeOnly, body, [secret], { now }).ok).toBe(true);
          const tampered = Uint8Array.from(body);
          tampered[flip % body.length]! ^= 1;
          expect(verifyWebhook(h, tampered, [secret], { now }).ok).toBe(false);
          expect(verifyWebhook(stripeOnly, tampered, [secret], { now }).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
