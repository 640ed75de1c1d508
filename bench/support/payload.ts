/**
 * A webhook payload as services send them, of about `bytes` bytes: an order with line items, random ids and
 * amounts (seeded, so every run sends the same bytes). Benches use it instead of a run of one letter, which
 * compresses to nothing and would flatter the stored event's size (the event store deflates payloads).
 */
export function orderPayload(type: string, bytes: number, seed = 1): string {
  let state = seed >>> 0 || 1;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join("");
  const words = ["blue", "steel", "mug", "lamp", "desk", "chair", "cable", "case", "oak", "linen", "small", "large"];
  const word = () => words[Math.floor(next() * words.length)]!;
  const items: unknown[] = [];
  const event = {
    type,
    data: {
      id: `ord_${hex(24)}`,
      created_at: new Date(1_765_000_000_000 + Math.floor(next() * 1e9)).toISOString(),
      customer: { id: `cus_${hex(16)}`, email: `${word()}.${hex(6)}@example.com`, country: "DE" },
      currency: "eur",
      items,
    },
  };
  while (JSON.stringify(event).length < bytes - 100)
    items.push({
      sku: `${word()}-${hex(8)}`,
      name: `${word()} ${word()} ${word()}`,
      quantity: 1 + Math.floor(next() * 5),
      unit_amount: Math.floor(next() * 100_000),
    });
  return JSON.stringify(event);
}
