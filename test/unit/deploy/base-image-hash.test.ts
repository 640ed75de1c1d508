/**
 * The offline base's tag is the same whoever computes it: .ci/run's background build runs under plain Node, the
 * container checks under vitest, and a tag that differed between them would rebuild the base (and every layer on it).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { recipeHash } from "../../support/docker/base-image.ts";

it("is the same under Node's own TypeScript and under vitest", async () => {
  const script = 'import("./test/support/docker/base-image.ts").then((m) => console.log(m.recipeHash()))';
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "-e", script],
    {
      cwd: new URL("../../..", import.meta.url),
    },
  );
  expect(stdout.trim()).toBe(recipeHash());
});
