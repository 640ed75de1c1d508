import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeBody, encodeBody, eventItemSchema } from "../../../services/aws/events/store.ts";

const json = (bytes: number) =>
  new TextEncoder().encode(
    JSON.stringify({
      type: "order.paid",
      items: Array.from({ length: bytes / 60 }, (_, i) => ({ sku: `sku-${i}`, n: i })),
    }),
  );

describe("a stored event body", () => {
  it("is deflated when that is smaller, and read back as the exact bytes received", async () => {
    for (const body of [json(1024), json(64 * 1024)]) {
      const stored = await encodeBody(body);
      expect(stored.bodyCodec).toBe("deflate");
      expect(stored.body.byteLength).toBeLessThan(body.byteLength / 2);
      expect(Buffer.from(decodeBody(stored.body, stored.bodyCodec)).equals(body)).toBe(true);
    }
  });

  it("is stored as received when deflating would not make it smaller", async () => {
    const body = new Uint8Array(randomBytes(600));
    expect(await encodeBody(body)).toEqual({ body });
    expect(decodeBody(body, undefined)).toBe(body);
  });

  it("is inflated by the event item's schema, which hides how it was stored", async () => {
    const body = json(2048);
    const item = eventItemSchema.parse({
      tenantId: "ten_1",
      eventId: "evt_1",
      createdAt: new Date(0).toISOString(),
      status: "PENDING",
      deliveries: {},
      version: 0,
      ...(await encodeBody(body)),
    });
    expect(Buffer.from(item.body).equals(body)).toBe(true);
    expect(item).not.toHaveProperty("bodyCodec");
    // An erased event keeps no body, and no codec either; an empty body is not inflated.
    expect(decodeBody(new Uint8Array(0), "deflate").byteLength).toBe(0);
  });
});
