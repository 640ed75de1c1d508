/** The Node.js floor: every place that states it agrees, and it is a Node that runs `.ts` files without a flag. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");
const read = (f: string) => readFileSync(join(root, f), "utf8");
const pkg = JSON.parse(read("package.json")) as { engines: { node: string }; scripts: Record<string, string> };
const cdkApp = (JSON.parse(read("cdk.json")) as { app: string }).app;

/** The first Node 22 that strips TypeScript types by default (22.18.0); 23.6 did it first, 24 does. */
const strippingByDefault = [22, 18];
const floor = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node)?.slice(1).map(Number) ?? [0, 0];

it("is a Node that runs .ts files without a flag, as cdk.json's app and npm start do", () => {
  expect(cdkApp).toMatch(/^node (--disable-warning=ExperimentalWarning )?infra\/bin\/app\.ts$/);
  expect(pkg.scripts.start).toMatch(/^node (--disable-warning=ExperimentalWarning )?services\/local\/start\.ts$/);
  expect(floor[0]! * 1000 + floor[1]!).toBeGreaterThanOrEqual(strippingByDefault[0]! * 1000 + strippingByDefault[1]!);
});

it("is the one npm start's preflight checks and CI installs past", () => {
  const [major, minor] = floor;
  expect(pkg.scripts.prestart).toContain(`a === ${major} && b < ${minor}`);
  expect(pkg.scripts.prestart).toContain(`needs Node.js ${major}.${minor} or newer`);
  const ci = read(".ci/run");
  expect(ci).toContain(`a === ${major} && b >= ${minor}`);
  expect(ci).toContain(`'node@^${major}.${minor}'`);
  expect(read("README.md")).toContain(`Node.js ${major}.${minor} or newer`);
});
