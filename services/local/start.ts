/**
 * `npm start`: the whole stack on one machine with only Node: emulators, tables and queues, the demo
 * receiver, the API and the worker as child processes (as in production), and a seeded demo tenant.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { PinoPretty } from "pino-pretty";
import { build } from "vite";
import { z } from "zod";
import { parseConfig } from "../config.ts";
import { redactPaths } from "../logging.ts";
import { runMain } from "../shutdown.ts";
import { createReceiver } from "../receiver/create-receiver.ts";
import { createAwsClients } from "../aws/clients.ts";
import { sealAllTenantsInClear } from "../aws/tenants.ts";
import { secretKeysOf, storesOf } from "../runtime.ts";
import { curlLine, seedDemoTenant, type DemoTenant } from "../bootstrap/seed-demo.ts";
import { newApiKey, newId, newSigningSecret } from "../core/ids.ts";
import { localCredentials, startLocalBackends } from "./local-stack.ts";
import { startTtlSweeper } from "./ttl-sweeper.ts";
import { tableNames } from "../aws/tables.ts";
import { tracingNodeFlag } from "../tracing/start.ts";

const servicesDir = fileURLToPath(new URL("..", import.meta.url));

const demoSchema = z.object({ tenantId: z.string(), apiKey: z.string(), secret: z.string(), endpointUrl: z.string() });

function spawnService(role: "api" | "worker", env: Record<string, string>, flags: string[]): ChildProcess {
  const child = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", ...flags, join(servicesDir, role, "main.ts")],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
      // Its own process group: a terminal Ctrl-C reaches only us, and we drain each service once.
      detached: true,
    },
  );
  child.stdout.pipe(PinoPretty({ colorize: process.stdout.isTTY, ignore: "pid,hostname", singleLine: true }));
  return child;
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the API exited (code ${child.exitCode}) before it was ready`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready`);
}

/** The demo tenant of a previous run (its key is kept only here, locally), or a new one. */
function demoTenant(file: string, endpointUrl: string): DemoTenant {
  if (existsSync(file)) {
    const saved = demoSchema.parse(JSON.parse(readFileSync(file, "utf8")));
    if (saved.endpointUrl === endpointUrl) return saved;
  }
  const key = newApiKey();
  const demo = { tenantId: newId("ten"), apiKey: key.apiKey, secret: newSigningSecret(), endpointUrl };
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * The console's bundle, built on every start (a fraction of a second), so it is never missing or stale.
 * Emptied first only when it holds a previous build: CONSOLE_DIR may name any folder.
 */
async function buildConsole(dir: string): Promise<void> {
  const outDir = resolve(dir);
  const emptyOutDir = !existsSync(outDir) || existsSync(join(outDir, "index.html"));
  await build({
    configFile: join(servicesDir, "..", "console", "vite.config.ts"),
    logLevel: "warn",
    build: { outDir, emptyOutDir },
  });
}

runMain(async () => {
  const config = parseConfig(process.env, "local");
  const log = pino(
    { level: config.LOG_LEVEL, name: "local", redact: redactPaths },
    PinoPretty({ ignore: "pid,hostname", singleLine: true }),
  );
  await buildConsole(config.CONSOLE_DIR);
  const { emulators, env, rebuilt } = await startLocalBackends(config, process.env);
  log.info({ pending: rebuilt.pending, dead: rebuilt.dead }, "queues rebuilt from DynamoDB");
  const demo = demoTenant(
    join(config.LOCAL_DATA_DIR, "demo.json"),
    `http://127.0.0.1:${config.RECEIVER_PORT}/webhooks`,
  );
  const clients = createAwsClients({
    region: config.AWS_REGION,
    endpoints: { dynamodb: emulators.dynamoEndpoint, sqs: emulators.sqsEndpoint },
    credentials: localCredentials,
  });
  const keys = await secretKeysOf({ ...config, SECRETS_KEY_FILE: env.SECRETS_KEY_FILE }, clients);
  const stores = storesOf(clients.ddb, config, keys);
  // Tenants kept in LOCAL_DATA_DIR from before sealing are sealed here, as the bootstrap does elsewhere.
  const sealing = await sealAllTenantsInClear(stores.tenants);
  if (sealing.sealed > 0) log.info(sealing, "signing secrets in clear sealed");
  await seedDemoTenant(stores, demo, Date.now());
  // The emulators never expire items: this does what DynamoDB's TTL does in AWS, once a minute.
  const ttl = startTtlSweeper({
    ddb: clients.ddb,
    tables: tableNames(config.TABLE_PREFIX),
    intervalMs: 60_000,
    log: log.child({ name: "ttl" }),
    now: Date.now,
  });
  const receiver = createReceiver({ secrets: () => [demo.secret], log: log.child({ name: "receiver" }) });
  await new Promise<void>((resolve) => receiver.listen(config.RECEIVER_PORT, "127.0.0.1", () => resolve()));
  const serviceEnv = { ...env, PORT: String(config.PORT), LOG_LEVEL: config.LOG_LEVEL };
  const flags = config.OTEL_EXPORTER_OTLP_ENDPOINT ? [tracingNodeFlag] : [];
  const children = [spawnService("api", serviceEnv, flags), spawnService("worker", serviceEnv, flags)];

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) c.kill("SIGTERM");
    await Promise.all([...children.map(exited), ttl.stop()]);
    clients.destroy();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await emulators.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  for (const c of children)
    c.once("exit", (code) => !stopping && (log.error({ code }, "a service exited"), void stop(1)));

  const apiUrl = `http://127.0.0.1:${config.PORT}`;
  await waitUntilReady(`${apiUrl}/readyz`, children[0]!);
  process.stdout.write(
    [
      "",
      "Webhook delivery platform is running (Ctrl-C stops everything).",
      `  API            ${apiUrl}`,
      `  console        ${apiUrl}/console/  (sign in with the admin token)`,
      `  admin token    ${env.ADMIN_TOKEN}`,
      `  demo tenant    ${demo.tenantId}`,
      `  demo API key   ${demo.apiKey}`,
      `  demo receiver  ${demo.endpointUrl}  (verifies both signatures; its log lines say "webhook verified")`,
      ...(config.OTEL_EXPORTER_OTLP_ENDPOINT
        ? [`  tracing        on: spans go to ${config.OTEL_EXPORTER_OTLP_ENDPOINT} (OTLP/HTTP)`]
        : [
            "  tracing        off. To follow each event, run an OTLP collector, e.g. Jaeger:",
            "                 docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/jaeger",
            "                 then OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm start (traces at http://127.0.0.1:16686)",
          ]),
      "",
      "Send an event:",
      `  ${curlLine(apiUrl, demo.apiKey)}`,
      "",
      "",
    ].join("\n"),
  );
});
