/**
 * With the API's tenant cache on (as deployed; the other tests turn it off), what an API process writes it reads
 * back at once: an endpoint added is sent the very next event, one deleted is not. Before, the tenant cached by
 * the previous request fanned events out for up to AUTH_CACHE_TTL_MS, so a new endpoint missed them.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { getEvent, postEvent } from "../support/api.ts";
import { startReceiver, type TestReceiver } from "../support/receiver.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let receiver: TestReceiver;

beforeAll(async () => {
  stack = await startStack({ AUTH_CACHE_TTL_MS: "60000" });
  receiver = await startReceiver();
});

afterAll(async () => {
  await stack.close();
  await receiver.close();
});

it("sends the next event to an endpoint added a moment ago, and none to one deleted", async () => {
  const t = await stack.createTenant([{ url: `${receiver.url}?first` }]);
  const auth = `Bearer ${t.apiKey}`;
  const endpointsOf = async (eventId: string) =>
    (await getEvent(stack, t.apiKey, eventId)).deliveries.map((d) => d.endpoint_id).sort();
  // The tenant is now cached by this API process.
  expect(await endpointsOf((await postEvent(stack, t.apiKey, { type: "a" })).body.event_id)).toEqual([
    t.endpoints[0]!.endpointId,
  ]);

  const added = await stack.http
    .post("/v1/endpoints")
    .set("authorization", auth)
    .send({ url: `${receiver.url}?second` });
  expect(added.status).toBe(201);
  const second = added.body.endpoint_id as string;
  expect(await endpointsOf((await postEvent(stack, t.apiKey, { type: "b" })).body.event_id)).toEqual(
    [t.endpoints[0]!.endpointId, second].sort(),
  );

  expect((await stack.http.delete(`/v1/endpoints/${second}`).set("authorization", auth)).status).toBe(204);
  expect(await endpointsOf((await postEvent(stack, t.apiKey, { type: "c" })).body.event_id)).toEqual([
    t.endpoints[0]!.endpointId,
  ]);
});
