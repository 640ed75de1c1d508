/**
 * An AWS destination as its tenant and the operator see it, in headless Chromium against the real API: the portal's
 * endpoint page shows the role, the external id and the two policies to paste (the ones the API answers), and the
 * operator console's endpoints list shows the service, role and external id.
 */
import type { Page } from "playwright-core";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { localCredentials } from "../../services/local/local-stack.ts";
import { openBrowser, type BrowserRig } from "../support/browser.ts";
import { createDestination, emulatorDestinations } from "../support/destinations.ts";
import { startStack, type Stack } from "../support/stack.ts";

const role = "arn:aws:iam::111111111111:role/webhooks-delivery";
let stack: Stack;
let rig: BrowserRig;
let tenantId: string;
let apiKey: string;
/** A second queue, the one the portal's edit moves the endpoint to. */
let nextQueueUrl: string;
let endpointId: string;
/** The endpoint as the API answers it to its tenant. */
let view: { external_id: string; trust_policy: unknown; permissions_policy: unknown };

beforeAll(async () => {
  const endpoint = inject("sqsEndpoint");
  stack = await startStack({
    ...emulatorDestinations(endpoint),
  });
  const sqs = new SQSClient({ region: "us-east-1", endpoint, credentials: localCredentials });
  const queue = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const queueUrl = await queue(`portal-${Date.now()}`);
  nextQueueUrl = await queue(`portal-next-${Date.now()}`);
  sqs.destroy();
  const tenant = await stack.createTenant([]);
  ({ tenantId, apiKey } = tenant);
  ({ endpointId } = await createDestination(stack, apiKey, {
    type: "aws_sqs",
    target: queueUrl,
    roleArn: role,
    eventType: "order.*",
  }));
  view = (await stack.http.get(`/v1/endpoints/${endpointId}`).set("authorization", `Bearer ${apiKey}`)).body;
  rig = await openBrowser(stack);
}, 60_000);

afterAll(async () => {
  await rig.close();
  await stack.close();
});

const openPage = async (url: string): Promise<Page> => {
  const page = await rig.context.newPage();
  await page.goto(url);
  return page;
};

describe("an AWS destination in the browser", () => {
  it("the portal's endpoint page shows the external id and the policies to paste, and its edit moves the target", async () => {
    const res = await fetch(`${rig.base}/admin/tenants/${tenantId}/portal-sessions`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ read_only: false }),
    });
    const page = await openPage(((await res.json()) as { url: string }).url);
    await page.getByTestId("portal-endpoints").locator(`tr[data-endpoint-id="${endpointId}"]`).click();
    const panel = page.getByTestId("destination");
    expect(await panel.getByTestId("external-id").textContent()).toBe(view.external_id);
    expect(await panel.textContent()).toContain(role);
    expect(JSON.parse((await panel.getByTestId("trust-policy").textContent())!)).toEqual(view.trust_policy);
    expect(JSON.parse((await panel.getByTestId("permissions-policy").textContent())!)).toEqual(view.permissions_policy);

    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByTestId("edit-endpoint").locator("input[name=url]").fill(nextQueueUrl);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Endpoint saved.").waitFor();
    const after = await stack.http.get(`/v1/endpoints/${endpointId}`).set("authorization", `Bearer ${apiKey}`);
    expect(after.body).toMatchObject({ target: nextQueueUrl, external_id: view.external_id });
  });

  it("the console's endpoints list shows its service, role and external id", async () => {
    const page = await openPage(`${rig.base}/console/`);
    await page.fill("input[name=token]", stack.adminToken);
    await page.click("button[type=submit]");
    await page.click("[data-view=endpoints]");
    const row = page.getByTestId("endpoints").locator(`tr[data-endpoint-id="${endpointId}"]`);
    expect(await row.getByTestId("destination").textContent()).toBe(` aws_sqs via ${role} · ${view.external_id}`);
  });
});
