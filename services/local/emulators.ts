/** The DynamoDB and SQS emulators from npm (dynalite, fauxqs), in this process, on loopback. */
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import dynalite from "dynalite";
import { startFauxqs } from "fauxqs";

export interface Emulators {
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Where both keep their data across restarts; in memory when absent. */
  readonly dataDir?: string | undefined;
  /** 0 picks a free port. */
  readonly dynamoPort: number;
  readonly sqsPort: number;
}

export async function startEmulators(opts: EmulatorOptions): Promise<Emulators> {
  const dataDir = opts.dataDir;
  if (dataDir) {
    mkdirSync(join(dataDir, "dynamodb"), { recursive: true });
    mkdirSync(join(dataDir, "sqs"), { recursive: true });
  }
  const dynamo = dynalite({
    ...(dataDir ? { path: join(dataDir, "dynamodb") } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    dynamo.once("error", reject);
    dynamo.listen(opts.dynamoPort, "127.0.0.1", () => resolve());
  });
  const sqs = await startFauxqs({ port: opts.sqsPort, logger: false, ...(dataDir ? { dataDir: join(dataDir, "sqs") } : {}) });
  const { port } = dynamo.address() as AddressInfo;
  return {
    dynamoEndpoint: `http://127.0.0.1:${port}`,
    sqsEndpoint: `http://127.0.0.1:${sqs.port}`,
    async stop() {
      await sqs.stop();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
