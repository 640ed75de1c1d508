/** Benchmarks' stack: in-memory emulators, tables and queues, and the API and worker as real processes. */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAwsClients } from "../../services/aws/clients.ts";
import { provisionAll } from "../../services/aws/provision.ts";
import { ensureKeyFile } from "../../services/aws/secret-keys.ts";
import { maxAttempts, parseSchedule } from "../../services/core/retry-policy.ts";
import { startEmulators, type Emulators } from "../../services/local/emulators.ts";
import { localCredentials } from "../../services/local/local-stack.ts";
import { startServiceProcess, type ServiceProcess } from "../../test/support/processes.ts";

export interface BenchStack {
  readonly apiUrl: string;
  readonly adminToken: string;
  readonly emulators: Emulators;
  readonly env: Record<string, string>;
  startWorker(extra?: Record<string, string>): Promise<ChildProcess>;
  stop(): Promise<void>;
}

/** On in-memory emulators of its own, or on `emulators` given (then left running by `stop`). */
export async function startBenchStack(settings: Record<string, string> = {}, given?: Emulators): Promise<BenchStack> {
  const emulators = given ?? (await startEmulators({ dynamoPort: 0, sqsPort: 0 }));
  const adminToken = randomBytes(24).toString("base64url");
  const secretsKey = join(mkdtempSync(join(tmpdir(), "bench-key-")), "secrets.key");
  await ensureKeyFile(secretsKey);
  const env: Record<string, string> = {
    SECRETS_KEY_FILE: secretsKey,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
    ADMIN_TOKEN: adminToken,
    ALLOW_PRIVATE_TARGETS: "true",
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
  const api = await startServiceProcess("api", env);
  const services: ServiceProcess[] = [api];
  return {
    apiUrl: `http://127.0.0.1:${api.port}`,
    adminToken,
    emulators,
    env,
    async startWorker(extra = {}) {
      const worker = await startServiceProcess("worker", { ...env, ...extra });
      services.push(worker);
      return worker.child;
    },
    async stop() {
      await Promise.all(
        services.map(async (s) => {
          // Graceful first (so --cpu-prof profiles get written), then at once.
          const force = setTimeout(() => s.child.kill("SIGKILL"), 5000);
          await s.kill("SIGTERM");
          clearTimeout(force);
        }),
      );
      if (!given) await emulators.stop();
    },
  };
}
