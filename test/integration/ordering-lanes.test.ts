import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxLaneLength } from "../../services/core/ordering.ts";
import { endpointLanes, joinLane, leaveLane, readLane } from "../../services/aws/events/lanes.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe("lanes", () => {
  it("keep the order of joining, let only the named head leave, and go once empty", async () => {
    const k = { tenantId: "ten_lanes", endpointId: "ep_a", orderingKey: "order 42/x" };
    expect(await joinLane(stack.store, k, "evt_1", 10)).toEqual({ ok: true, position: 0 });
    expect(await joinLane(stack.store, k, "evt_2", 20)).toEqual({ ok: true, position: 1 });
    // Joining twice answers its place and adds nothing.
    expect(await joinLane(stack.store, k, "evt_1", 30)).toEqual({ ok: true, position: 0 });
    expect(await leaveLane(stack.store, k, "evt_2", 40)).toBeUndefined();
    expect((await readLane(stack.store, k))?.waiting).toEqual(["evt_1", "evt_2"]);
    expect(await leaveLane(stack.store, k, "evt_1", 50)).toEqual({
      orderingKey: "order 42/x",
      waiting: ["evt_2"],
      since: 50,
    });
    const other = { ...k, orderingKey: "b" };
    await joinLane(stack.store, other, "evt_9", 60);
    expect((await endpointLanes(stack.store, k.tenantId, "ep_a", 10)).lanes.map((l) => l.orderingKey)).toEqual([
      "b",
      "order 42/x",
    ]);
    expect((await leaveLane(stack.store, k, "evt_2", 70))?.waiting).toEqual([]);
    expect(await readLane(stack.store, k)).toBeUndefined();
  });

  it("refuse a join beyond the lane's length", async () => {
    const k = { tenantId: "ten_lanes", endpointId: "ep_full", orderingKey: "k" };
    expect(await joinLane(stack.store, k, "evt_0", 0)).toEqual({ ok: true, position: 0 });
    // Filled to one short of full in one write (a thousand joins are slow on some emulators), then joined to full.
    const waiting = Array.from({ length: maxLaneLength - 1 }, (_, i) => `evt_${i}`);
    await stack.store.ddb.send(
      new UpdateCommand({
        TableName: stack.store.table,
        Key: { tenantId: k.tenantId, sk: "#lane#ep_full#k" },
        UpdateExpression: "SET waiting = :w",
        ExpressionAttributeValues: { ":w": waiting },
      }),
    );
    expect(await joinLane(stack.store, k, "evt_last", 0)).toEqual({ ok: true, position: maxLaneLength - 1 });
    expect(await joinLane(stack.store, k, "evt_over", 0)).toEqual({ ok: false, full: true });
    expect((await readLane(stack.store, k))?.waiting).toHaveLength(maxLaneLength);
  });
});
