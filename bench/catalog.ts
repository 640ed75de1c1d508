/**
 * `npm run bench` › the event catalog: ingestion of a 1 KiB event checked against a realistic schema (10 properties,
 * a nested object, formats) beside the same event for a type without a schema, and fan-out to 50 endpoints with
 * content filters beside 50 without, each pair in the same run, one after the other (alternating which goes first), the best of each kept.
 */
import autocannon from "autocannon";
import { compilePayloadSchema } from "../services/ingestion/payload-schemas.ts";

export const benchOrderSchema = {
  type: "object",
  required: ["type", "id", "occurred_at", "data"],
  properties: {
    type: { const: "order.paid" },
    id: { type: "string", pattern: "^evt_[0-9A-Za-z]{8,32}$" },
    occurred_at: { type: "string", format: "date-time" },
    data: {
      type: "object",
      required: ["order_id", "amount", "currency", "customer"],
      properties: {
        order_id: { type: "string", pattern: "^ord_[0-9A-Za-z]{4,32}$" },
        amount: { type: "integer", minimum: 0 },
        currency: { enum: ["EUR", "USD", "GBP"] },
        email: { type: "string", format: "email" },
        paid_at: { type: "string", format: "date-time" },
        customer: {
          type: "object",
          required: ["id"],
          properties: {
            id: { type: "string" },
            name: { type: "string", maxLength: 200 },
            country: { type: "string", minLength: 2, maxLength: 2 },
          },
        },
        lines: {
          type: "array",
          items: { type: "object", properties: { sku: { type: "string" }, qty: { type: "integer" } } },
        },
        note: { type: "string", maxLength: 2000 },
      },
    },
  },
};

/** A 1 KiB order.paid that conforms to the schema. */
export const benchOrder = (() => {
  const event = {
    type: "order.paid",
    id: "evt_01JBENCH000000",
    occurred_at: "2026-12-05T10:00:00Z",
    data: {
      order_id: "ord_1234567890",
      amount: 4200,
      currency: "EUR",
      email: "buyer@example.com",
      paid_at: "2026-12-05T10:00:00Z",
      customer: { id: "cus_42", name: "Ada Lovelace", country: "GB" },
      lines: [
        { sku: "SKU-1", qty: 1 },
        { sku: "SKU-2", qty: 3 },
      ],
      note: "",
    },
  };
  event.data.note = "x".repeat(1024 - JSON.stringify(event).length);
  return JSON.stringify(event);
})();

export const benchFilter = {
  data: { amount: { $gt: 100 }, currency: { $in: ["EUR", "USD"] }, customer: { country: { $exists: true } } },
};

interface Pair {
  readonly without: number;
  readonly with: number;
}

/** The check alone, in this process: microseconds to check the 1 KiB order against its compiled schema. */
export function checkMicroseconds(): number {
  const check = compilePayloadSchema(benchOrderSchema);
  const payload = JSON.parse(benchOrder) as unknown;
  for (let i = 0; i < 2000; i++) check(payload);
  const started = performance.now();
  for (let i = 0; i < 20_000; i++) check(payload);
  return ((performance.now() - started) / 20_000) * 1000;
}

export async function catalogBench(opts: {
  apiUrl: string;
  adminToken: string;
  receiverUrl: string;
  seconds: number;
  rounds: number;
}): Promise<{ schema: Pair; filters: Pair }> {
  const admin = { authorization: `Bearer ${opts.adminToken}`, "content-type": "application/json" };
  const tenant = async (endpoints: object[]) =>
    (await (
      await fetch(`${opts.apiUrl}/admin/tenants`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ name: "bench catalog", endpoints }),
      })
    ).json()) as { api_key: string };
  const plain = await tenant([{ url: opts.receiverUrl }]);
  const checked = await tenant([{ url: opts.receiverUrl }]);
  const put = await fetch(`${opts.apiUrl}/v1/event-types/order.paid`, {
    method: "PUT",
    headers: { authorization: `Bearer ${checked.api_key}`, "content-type": "application/json" },
    body: JSON.stringify({ schema: benchOrderSchema, examples: [JSON.parse(benchOrder) as unknown] }),
  });
  if (put.status !== 201) throw new Error(`PUT event type: ${put.status} ${await put.text()}`);
  const fifty = (filter?: object) =>
    Array.from({ length: 50 }, (_, i) => ({ url: `${opts.receiverUrl}?e${i}`, ...(filter ? { filter } : {}) }));
  const unfiltered = await tenant(fifty());
  const filtered = await tenant(fifty(benchFilter));

  const rps = async (apiKey: string, connections: number) => {
    const out = await autocannon({
      url: `${opts.apiUrl}/v1/events`,
      connections,
      duration: opts.seconds,
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: benchOrder,
    });
    if (out.non2xx > 0) throw new Error(`${out.non2xx} answers were not 2xx`);
    return out.requests.average;
  };
  const pair = async (without: string, withIt: string, connections: number): Promise<Pair> => {
    let best = { without: 0, with: 0 };
    // Alternating which goes first, so that neither always runs on a warmer (or busier) machine.
    for (let i = 0; i < opts.rounds; i++) {
      const first = i % 2 === 0 ? without : withIt;
      const a = await rps(first, connections);
      const b = await rps(first === without ? withIt : without, connections);
      const [w, x] = first === without ? [a, b] : [b, a];
      best = { without: Math.max(best.without, w), with: Math.max(best.with, x) };
    }
    return best;
  };
  return {
    schema: await pair(plain.api_key, checked.api_key, 32),
    filters: await pair(unfiltered.api_key, filtered.api_key, 8),
  };
}
