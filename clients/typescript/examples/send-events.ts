/**
 * A tenant's side: an endpoint, events sent, dead ones found and retried. Type-checked against the built package on
 * every build, as a user's code would be (`npm run build -w clients/typescript`).
 */
import { createPlatformClient, isProblem, paginate } from "@webhook-delivery-platform/client";

const api = createPlatformClient({
  baseUrl: process.env.WEBHOOKS_API_URL ?? "http://127.0.0.1:3000",
  token: process.env.WEBHOOKS_API_KEY ?? "",
});

// The endpoint's secret is shown in this answer only: keep it where the receiver reads it.
const { data: endpoint } = await api.postV1Endpoints({
  body: { url: "https://example.com/webhooks", event_types: ["order.*"] },
});
console.log(endpoint.endpoint_id, endpoint.secret);

// An Idempotency-Key is added to every send that has none; pass your own to make a send repeatable across restarts.
const { data: sent } = await api.postV1Events({
  body: { type: "order.created", order_id: "ord_1001", total: 4200 },
  headers: { "idempotency-key": "order-1001-created" },
});
console.log(sent.event_id, sent.status);

// Every dead event, page after page, each retried.
for await (const event of paginate((cursor) => api.getV1Events({ query: { status: "DEAD", cursor } }))) {
  const { data } = await api.postV1EventsByEventIdRetry({ path: { eventId: event.event_id } });
  console.log(data.event_id, data.requeued);
}

// Errors are ProblemError: the status, the problem's type, and the invalid fields of a 422.
try {
  await api.postV1Endpoints({ body: { url: "not a url" } });
} catch (err) {
  if (isProblem(err, 422)) console.log(err.errors.map((e) => e.path));
  else throw err;
}
