/** Benchmarks' stack: in-memory emulators, tables and queues, and the API and worker as real processes. */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createAwsClients } from "../../services/aws/clients.ts";
import { provisionAll } from "../../services/aws/provision.ts";
import { maxAttempts, parseSchedule } from "../../services/core/retry-policy.ts";
import { startEmulators, type Emulators } from "../../services/local/emulators.ts";
import { localCredentials } from "../../services/local/local-stack.ts";

export interface BenchStack {
  readonly apiUrl: string;
  readonly adminToken: string;
  readonly emulators: Emulators;
  readonly env: Record<string, string>;
  startWorker(extra?: Record<string, string>): Promise<ChildProcess>;
  stop(): Promise<void>;
}

function spawnService(role: "api" | "worker", env: Record<string, string>): { child: ChildProcess; ready: Promise<number> } {
  const main = fileURLToPath(new URL(`../../services/${role}/main.ts`, import.meta.url));
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", main], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const ready = new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === "listening" || entry.msg === "worker started") resolve(entry.port ?? 0);
    });
  });
  return { child, ready };
}

export async function startBenchStack(settings: Record<string, string> = {}): Promise<BenchStack> {
  const emulators = await startEmulators({ dynamoPort: 0, sqsPort: 0 });
  const adminToken = randomBytes(24).toString("base64url");
  const env: Record<string, string> = {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
    ADMIN_TOKEN: adminToken,
    ALLOW_PRIVATE_TARGETS: "true",
    LOG_LEVEL: "warn",
    SQS_WAIT_TIME_S: "1",
    PORT: "0",
    ...settings,
  };
  const clients = createAwsClients({
    region: "us-east-1",
    endpoints: { dynamodb: emulators.dynamoEndpoint, sqs: emulators.sqsEndpoint },
    credentials: localCredentials,
  });
  await provisionAll(clients.dynamo, clients.sqs, {
    tablePrefix: env.TABLE_PREFIX ?? "webhooks",
    queueName: env.DELIVERY_QUEUE ?? "webhooks-deliveries",
    dlqName: env.DEAD_LETTER_QUEUE ?? "webhooks-deliveries-dlq",
    visibilityTimeoutS: Number(env.VISIBILITY_TIMEOUT_S ?? 60),
    maxAttempts: maxAttempts(parseSchedule(env.RETRY_SCHEDULE ?? "1m,2m,4m,8m,16m") ?? []),
  });
  clients.destroy();
  const children: ChildProcess[] = [];
  const api = spawnService("api", { ...env, LOG_LEVEL: "info" });
  children.push(api.child);
  const port = await api.ready;
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    adminToken,
    emulators,
    env,
    async startWorker(extra = {}) {
      const w = spawnService("worker", { ...env, LOG_LEVEL: "info", ...extra });
      children.push(w.child);
      await w.ready;
      return w.child;
    },
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once("exit", () => resolve());
              // Graceful first (so --cpu-prof profiles get written), then at once.
              c.kill("SIGTERM");
              setTimeout(() => c.kill("SIGKILL"), 5000).unref();
            }),
        ),
      );
      await emulators.stop();
    },
  };
}
