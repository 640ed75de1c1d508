/** The receiver guide's code samples: identical to the files, and run here against real signatures. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import supertest from "supertest";
import { describe, expect, it } from "vitest";
import { createReceiverApp } from "../../docs/samples/express-receiver.ts";
import { verifyStandard } from "../../docs/samples/verify-standard-webhooks.ts";
import { verifyStripeStyle } from "../../docs/samples/verify-stripe-by-hand.ts";
import { newSigningSecret } from "../../services/core/ids.ts";
import { signatureHeaders } from "../../services/core/signing.ts";

const root = join(import.meta.dirname, "../..");
const guide = readFileSync(join(root, "docs/WEBHOOK_INTEGRATION.md"), "utf8");

const secret = newSigningSecret();
const body = Buffer.from('{"type":"order.paid","order_id":"ord_1"}');
const sign = (secrets = [secret]) =>
  signatureHeaders({ webhookId: "msg_doc", timestamp: Math.floor(Date.now() / 1000), body, secrets });

describe("docs/WEBHOOK_INTEGRATION.md", () => {
  it("shows each sample exactly as the file that is tested", () => {
    const blocks = [...guide.matchAll(/```ts\n(\/\/ (docs\/samples\/[\w-]+\.ts)\n[\s\S]*?)```/g)];
    expect(blocks.map((b) => b[2]).sort()).toEqual([
      "docs/samples/express-receiver.ts",
      "docs/samples/verify-standard-webhooks.ts",
      "docs/samples/verify-stripe-by-hand.ts",
    ]);
    for (const [, code, file] of blocks)
      expect(code!.trim(), file).toBe(readFileSync(join(root, file!), "utf8").trim());
  });

  it("verifies with the standardwebhooks package, also during a rotation", () => {
    expect(verifyStandard(body, sign(), secret)).toEqual(JSON.parse(body.toString()));
    expect(verifyStandard(body, sign([newSigningSecret(), secret]), secret)).toEqual(JSON.parse(body.toString()));
    expect(() => verifyStandard(Buffer.from(`${body.toString()} `), sign(), secret)).toThrow();
  });

  it("verifies the Stripe style by hand", () => {
    expect(verifyStripeStyle(body, sign()["stripe-signature"]!, secret)).toBe(true);
    expect(verifyStripeStyle(body, sign([newSigningSecret(), secret])["stripe-signature"]!, secret)).toBe(true);
    expect(verifyStripeStyle(body, sign()["stripe-signature"]!, newSigningSecret())).toBe(false);
    expect(verifyStripeStyle(body, "t=1,v1=zz", secret)).toBe(false);
  });

  it("the Express receiver verifies, answers at once, and processes each webhook-id once", async () => {
    const processed: unknown[] = [];
    const app = supertest(
      createReceiverApp([secret], (e) => {
        processed.push(e);
        return Promise.resolve();
      }),
    );
    const send = (headers: Record<string, string>) =>
      app.post("/webhooks").set(headers).set("content-type", "application/json").send(body.toString());
    expect((await send(sign())).status).toBe(204);
    expect((await send(sign())).status).toBe(204);
    expect(processed).toEqual([JSON.parse(body.toString())]);
    expect((await send(sign([newSigningSecret()]))).status).toBe(401);
  });
});

describe("clients/typescript/README.md", () => {
  it("shows each example exactly as the file the package's build type-checks against it", () => {
    const readme = readFileSync(join(root, "clients/typescript/README.md"), "utf8");
    const blocks = [...readme.matchAll(/\(`(examples\/[\w-]+\.ts)`\)\n\n```ts\n([\s\S]*?)```/g)];
    expect(blocks.map((b) => b[1]).sort()).toEqual(["examples/receiver.ts", "examples/send-events.ts"]);
    for (const [, file, code] of blocks)
      expect(code!.trim(), file).toBe(readFileSync(join(root, "clients/typescript", file!), "utf8").trim());
  });
});
