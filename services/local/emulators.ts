/** The DynamoDB and SQS emulators from npm (dynalite, fauxqs), in this process, on loopback. */
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import dynalite from "dynalite";
import { startFauxqs } from "fauxqs";

export interface Emulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** dynalite on `port` (0 picks one); data under `dataDir` survives a restart, else it lives in memory. */
export async function startDynalite(port: number, dataDir?: string): Promise<Emulator> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({ ...(dataDir ? { path: dataDir } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** fauxqs on `port` (0 picks one); queues and messages under `dataDir` survive a restart. */
export async function startSqsEmulator(port: number, dataDir?: string): Promise<Emulator> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = await startFauxqs({ port, logger: false, ...(dataDir ? { dataDir } : {}) });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

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
  const dir = (name: string) => (opts.dataDir ? join(opts.dataDir, name) : undefined);
  const dynamo = await startDynalite(opts.dynamoPort, dir("dynamodb"));
  const sqs = await startSqsEmulator(opts.sqsPort, dir("sqs"));
  return {
    dynamoEndpoint: dynamo.endpoint,
    sqsEndpoint: sqs.endpoint,
    async stop() {
      await sqs.stop();
      await dynamo.stop();
    },
  };
}
