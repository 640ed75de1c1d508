/**
 * AWS destinations as the API takes them: created with their type, target and role; answered with the external id
 * and the policies a customer pastes; every where-to field checked against the platform's rules, on create and PATCH.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

const principal = "arn:aws:iam::123456789012:role/webhooks-worker";
const queue = "https://sqs.eu-west-1.amazonaws.com/111111111111/orders";
const role = "arn:aws:iam::111111111111:role/webhooks-delivery";
let stack: Stack;
let plain: Stack;
let auth: string;

beforeAll(async () => {
  [stack, plain] = await Promise.all([
    startStack({
      DESTINATION_PRINCIPAL_ARN: principal,
      PLATFORM_ACCOUNT_ID: "123456789012",
      DESTINATION_REGIONS: "eu-west-1,us-east-1",
      MAX_PAYLOAD_BYTES: "200000",
    }),
    startStack(),
  ]);
  auth = `Bearer ${(await stack.createTenant([])).apiKey}`;
});

afterAll(async () => {
  await Promise.all([stack.close(), plain.close()]);
});

const create = (s: Stack, key: string, body: object) =>
  s.http.post("/v1/endpoints").set("authorization", key).send(body);
const paths = (res: { body: { errors?: { path: string; message: string }[] } }) =>
  (res.body.errors ?? []).map((e) => e.path).sort();

describe("AWS destinations in the API", () => {
  it("creates one with its own external id, and shows the trust and permissions policies to paste", async () => {
    const res = await create(stack, auth, { type: "aws_sqs", target: queue, role_arn: role });
    expect(res.status).toBe(201);
    const externalId = res.body.external_id as string;
    expect(externalId).toMatch(/^whx_/);
    expect(res.body).toMatchObject({ type: "aws_sqs", url: queue, target: queue, role_arn: role });
    expect(res.body.trust_policy.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { AWS: principal },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": externalId } },
      },
    ]);
    expect(res.body.permissions_policy.Statement).toEqual([
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:eu-west-1:111111111111:orders" },
    ]);
    const id = res.body.endpoint_id as string;
    const one = await stack.http.get(`/v1/endpoints/${id}`).set("authorization", auth);
    expect(one.body).toMatchObject({ external_id: externalId, trust_policy: res.body.trust_policy });
    const list = await stack.http.get("/v1/endpoints").set("authorization", auth);
    const listed = (list.body.data as { endpoint_id: string }[]).find((e) => e.endpoint_id === id);
    expect(listed).toMatchObject({ type: "aws_sqs", external_id: externalId });
    expect(listed).not.toHaveProperty("trust_policy");
    const other = await create(stack, auth, { type: "aws_sqs", target: queue, role_arn: role });
    expect(other.body.external_id).not.toBe(externalId);

    // The role and target may change; the type and the external id stay.
    const moved = "https://sqs.us-east-1.amazonaws.com/111111111111/orders-2";
    const patched = await stack.http
      .patch(`/v1/endpoints/${id}`)
      .set("authorization", auth)
      .send({ target: moved, role_arn: `${role}-2` });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ url: moved, target: moved, role_arn: `${role}-2`, external_id: externalId });
    const retyped = await stack.http.patch(`/v1/endpoints/${id}`).set("authorization", auth).send({ type: "http" });
    expect([retyped.status, paths(retyped)]).toEqual([422, ["type"]]);
    const withUrl = await stack.http
      .patch(`/v1/endpoints/${id}`)
      .set("authorization", auth)
      .send({ url: "https://example.com/hook" });
    expect([withUrl.status, paths(withUrl)]).toEqual([422, ["url"]]);
    const badTarget = await stack.http.patch(`/v1/endpoints/${id}`).set("authorization", auth).send({ target: "x" });
    expect([badTarget.status, paths(badTarget)]).toEqual([422, ["target"]]);
  });

  it("refuses a target or role that is malformed, in another region or the platform's own account", async () => {
    const cases: [object, string[]][] = [
      [{ type: "aws_sqs", role_arn: role }, ["target"]],
      [{ type: "aws_sqs", target: queue }, ["role_arn"]],
      [{ type: "aws_sqs", target: "arn:aws:sqs:eu-west-1:111111111111:orders", role_arn: role }, ["target"]],
      [{ type: "aws_sns", target: "arn:aws:sns:ap-south-1:111111111111:t", role_arn: role }, ["target"]],
      [{ type: "aws_sns", target: "arn:aws:sns:eu-west-1:123456789012:ours", role_arn: role }, ["target"]],
      [{ type: "aws_kinesis", target: "arn:aws:kinesis:eu-west-1:111111111111:stream/s", role_arn: "x" }, ["role_arn"]],
      [{ type: "aws_sqs", target: queue, role_arn: role, url: "https://example.com/h" }, ["url"]],
      [{ url: "https://example.com/h", target: queue }, ["target"]],
      [{ type: "aws_sqs", target: queue, role_arn: role, access_key_id: "AKIA…" }, ["access_key_id"]],
    ];
    for (const [body, want] of cases) {
      const res = await create(stack, auth, body);
      expect([res.status, paths(res)], JSON.stringify(body)).toEqual([422, want]);
    }
    // The operator's tenant creation checks them alike.
    const tenant = await stack.http
      .post("/admin/tenants")
      .set("authorization", `Bearer ${stack.adminToken}`)
      .send({ name: "t", endpoints: [{ type: "aws_eventbridge", target: "nope", role_arn: role }] });
    expect([tenant.status, paths(tenant)]).toEqual([422, ["endpoints.0.target"]]);
  });

  it("takes SNS and EventBridge only while every payload the platform accepts fits their 256 KiB", async () => {
    const sns = { type: "aws_sns", target: "arn:aws:sns:eu-west-1:111111111111:t", role_arn: role };
    expect((await create(stack, auth, sns)).status).toBe(201);
    // The default MAX_PAYLOAD_BYTES (256 KiB) leaves no room for the message's attributes.
    const key = `Bearer ${(await plain.createTenant([])).apiKey}`;
    const refused = await create(plain, key, sns);
    expect([refused.status, paths(refused)]).toEqual([422, ["type"]]);
  });

  it("refuses AWS destinations where the operator has not set them up", async () => {
    const key = `Bearer ${(await plain.createTenant([])).apiKey}`;
    const res = await create(plain, key, { type: "aws_sqs", target: queue, role_arn: role });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ path: "type", message: expect.stringMatching(/DESTINATION_PRINCIPAL_ARN/) }),
    ]);
  });
});
