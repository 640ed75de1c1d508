/**
 * What a tenant's consumers do with the published catalog: run openapi-typescript on `/v1/event-types/openapi.json`
 * and type their webhook handlers with it. The generated types must accept the examples and refuse a wrong payload.
 */
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, expect, it } from "vitest";
import { validate } from "@readme/openapi-parser";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

/** The TypeScript compiler's complaints about `files` (in memory), strict. */
function typeErrors(files: Record<string, string>): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    types: [],
    // No DOM: the default library is most of what the compiler reads.
    lib: ["lib.es2022.d.ts"],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.readFile = (f) => files[f] ?? read(f);
  host.fileExists = (f) => f in files || exists(f);
  const dirExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) => d === "/v" || (dirExists?.(d) ?? false);
  host.getSourceFile = ((get) => (f: string, v: ts.ScriptTarget) =>
    f in files ? ts.createSourceFile(f, files[f]!, v) : get(f, v))(host.getSourceFile.bind(host));
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

it("generates types with openapi-typescript that fit the examples and refuse a wrong payload", async () => {
  const t = await stack.createTenant([]);
  const put = (name: string, body: object) =>
    stack.http.put(`/v1/event-types/${name}`).set("authorization", `Bearer ${t.apiKey}`).send(body);
  const paid = {
    type: "order.paid",
    data: { order_id: "ord_1", amount: 4200, currency: "EUR", customer: { id: "cus_1" } },
  };
  const schema = {
    type: "object",
    required: ["type", "data"],
    properties: {
      type: { const: "order.paid" },
      data: {
        type: "object",
        required: ["order_id", "amount", "currency"],
        properties: {
          order_id: { type: "string" },
          amount: { type: "integer" },
          currency: { enum: ["EUR", "USD"] },
          customer: { $ref: "#/$defs/customer" },
        },
      },
    },
    $defs: { customer: { type: "object", required: ["id"], properties: { id: { type: "string" } } } },
  };
  expect((await put("order.paid", { description: "An order was paid", schema, examples: [paid] })).status).toBe(201);
  expect((await put("user.created", { deprecated: true })).status).toBe(201);

  const res = await stack.http.get("/v1/event-types/openapi.json").set("authorization", `Bearer ${t.apiKey}`);
  expect(res.status).toBe(200);
  const doc = res.body as { openapi: string; webhooks: Record<string, { post: { deprecated?: boolean } }> };
  expect(doc.openapi).toBe("3.1.0");
  expect(Object.keys(doc.webhooks)).toEqual(["order.paid", "user.created"]);
  expect(doc.webhooks["user.created"]!.post.deprecated).toBe(true);
  const valid = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
  expect(valid.valid, JSON.stringify(valid)).toBe(true);

  const generated = astToString(await openapiTS(structuredClone(doc) as Parameters<typeof openapiTS>[0]));
  expect(generated).toMatch(/export interface webhooks/);
  const use = (payload: string) => `
    import type { components } from "./catalog.ts";
    type OrderPaid = components["schemas"]["order.paid"];
    export const event: OrderPaid = ${payload};
    export const customer: string | undefined = event.data.customer?.id;
  `;
  expect(typeErrors({ "/v/catalog.ts": generated, "/v/use.ts": use(JSON.stringify(paid)) })).toEqual([]);
  const wrong = { ...paid, data: { ...paid.data, amount: "4200", currency: "JPY" } };
  const errors = typeErrors({ "/v/catalog.ts": generated, "/v/use.ts": use(JSON.stringify(wrong)) });
  expect(errors.join("\n")).toMatch(/Type .string. is not assignable to type .number./);
  expect(errors.join("\n")).toMatch(/"JPY"/);
});
